import type { Logger } from "pino";
import { discoveryPayload, type DiscoveryInput } from "./discovery-payload.js";
import { haDeviceConfigTopic, haStatusTopic } from "../../contract/topics.js";

export interface HaDiscoveryOptions extends DiscoveryInput {
  enabled: boolean;
  prefix: string;
  publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
  log: Logger;
}

/** What a node subscribes to for HA's birth message (before the discovery itself exists); none when off. */
export function haSubscriptions(enabled: boolean, prefix: string): string[] {
  return enabled ? [haStatusTopic(prefix)] : [];
}

/**
 * Home Assistant discovery for one node: the device message (retained) on every connect and again
 * when HA announces itself online on <prefix>/status (a restarted HA without retained messages).
 * Turned off, it publishes the empty retained message that makes HA remove the device.
 */
export class HaDiscovery {
  readonly statusTopic: string;
  private readonly topic: string;

  constructor(private readonly o: HaDiscoveryOptions) {
    this.statusTopic = haStatusTopic(o.prefix);
    this.topic = haDeviceConfigTopic(o.prefix, o.node);
  }

  onConnect(): void {
    this.announce();
  }

  /** True when the message was HA's, whatever it said. */
  onMessage(topic: string, payload: Buffer): boolean {
    if (topic !== this.statusTopic) return false;
    if (this.o.enabled && payload.toString("utf8") === "online") {
      this.o.log.info("home assistant came online: discovery sent again");
      this.announce();
    }
    return true;
  }

  private announce(): void {
    const payload = this.o.enabled ? JSON.stringify(discoveryPayload(this.o)) : "";
    this.o.publish(this.topic, payload, true).catch((err: unknown) => {
      this.o.log.warn({ err, topic: this.topic }, "discovery not published");
    });
  }
}
