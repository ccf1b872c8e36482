// What aedes gets wrong and a hook can put right, each with the upstream issue it answers. Installed
// after admission.ts, so each fix wraps the hook that decides.
import type { Aedes, AuthenticateError, Client, PublishPacket } from "aedes";
import { generate } from "mqtt-packet";
import type { Logger } from "pino";

/** Pure: MQTT 3.1.1 [MQTT-3.1.3-8]; MQTT 5 assigns an id instead, whatever Clean Start says. */
export function refusesEmptyClientId(packet: {
  clientId: string;
  clean?: boolean;
  protocolVersion?: number;
}): boolean {
  return packet.clientId === "" && packet.clean === false && (packet.protocolVersion ?? 4) < 5;
}

/**
 * Pure: drops the properties a will carries in CONNECT that a PUBLISH may not [MQTT-3.1.3.2-2, table
 * 2-4]: Will Delay Interval. aedes publishes a will with its CONNECT properties (aedes#1098), and an
 * MQTT 5 subscriber such as paho (Home Assistant's client) treats the property as a protocol error and
 * drops its connection. Returns whether anything was dropped.
 */
export function dropWillOnlyProperties(packet: { properties?: Record<string, unknown> }): boolean {
  if (!packet.properties || !("willDelayInterval" in packet.properties)) return false;
  delete packet.properties.willDelayInterval;
  return true;
}

/** A Subscription Identifier the broker may add on delivery: the property's id and up to four bytes. */
const SUBSCRIPTION_ID_BYTES = 5;

/**
 * Pure: the bytes `packet` takes on the wire as the broker delivers it over MQTT 5: with a packet id
 * when QoS > 0, and room for a Subscription Identifier. An estimate from above, so that nothing over a
 * client's Maximum Packet Size is ever sent.
 */
export function deliveredSize(packet: PublishPacket): number {
  const wire = {
    cmd: "publish" as const,
    topic: packet.topic,
    payload: packet.payload,
    qos: packet.qos,
    retain: packet.retain,
    dup: false,
    ...(packet.qos > 0 ? { messageId: 1 } : {}),
    ...(packet.properties ? { properties: packet.properties } : {}),
  };
  return generate(wire as never, { protocolVersion: 5 }).length + SUBSCRIPTION_ID_BYTES;
}

export function installConformance(broker: Aedes, log: Logger): void {
  // aedes#1095: an empty client id with clean session 0 must get CONNACK 0x02 (identifier rejected) and
  // be closed. aedes sends that CONNACK for an authenticate() error with returnCode 2; preConnect sees the packet.
  const refused = new WeakSet<Client>();
  broker.preConnect = (client, packet, done) => {
    if (refusesEmptyClientId(packet)) refused.add(client);
    done(null, true);
  };
  const authenticate = broker.authenticate.bind(broker);
  broker.authenticate = (client, username, password, done) => {
    if (!refused.has(client)) return authenticate(client, username, password, done);
    log.warn("refused: empty client id with clean session 0 (MQTT-3.1.3-8)");
    const err = Object.assign(new Error("identifier rejected: an empty client id needs clean session"), {
      returnCode: 2,
    }) as AuthenticateError;
    done(err, false);
  };
  // aedes#1098: every will passes authorizePublish before it is published (publishWill, and the sweep
  // of other brokers' wills): the one place to strip what only CONNECT may carry.
  // MQTT 5 [MQTT-3.1.2-24]: a client's Maximum Packet Size binds the server, which discards a message
  // too large for it instead of sending it (aedes 2 reads the property but sends anyway). authorizeForward
  // is asked once per subscriber and delivery: returning nothing skips this one subscriber.
  const authorizeForward = broker.authorizeForward.bind(broker);
  broker.authorizeForward = (client, packet) => {
    const max = (client as Client & { maximumPacketSize?: number }).maximumPacketSize;
    if (max && client.version === 5 && deliveredSize(packet) > max) {
      log.debug(
        { client: client.id, topic: packet.topic, max },
        "not delivered: over the client's Maximum Packet Size",
      );
      return null;
    }
    return authorizeForward(client, packet);
  };
  const authorizePublish = broker.authorizePublish.bind(broker);
  broker.authorizePublish = (client, packet: PublishPacket, done) => {
    dropWillOnlyProperties(packet as { properties?: Record<string, unknown> });
    authorizePublish(client, packet, done);
  };
}
