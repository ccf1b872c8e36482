// `labx broker` and `labx monitor`: each process's parts as Units (platform/units.ts), started in order
// and stopped in reverse at a signal.
import type { Config } from "../platform/config/config.js";
import type { createLogger } from "../platform/log.js";
import { systemClock } from "../platform/clock.js";
import { clientSecurity } from "../platform/mqtt/client-security.js";
import { redactUrl } from "../platform/secrets.js";
import { part, unit, Units } from "../platform/units.js";
import { createValidators } from "../contract/schemas.js";
import type { EmbeddedBroker } from "../broker/embedded-broker.js";
import type { FleetMonitor } from "../monitor/fleet-monitor.js";
import { startLabBroker, stderrTerminal } from "./lab-broker.js";
import { untilSignal } from "./signals.js";

type Log = ReturnType<typeof createLogger>;

/** The embedded broker alone, and the fleet monitor beside it with --monitor. */
export async function runBroker(config: Config, log: Log): Promise<number> {
  let broker: EmbeddedBroker | null = null;
  let monitor: FleetMonitor | null = null;
  const units = new Units(
    [
      unit(
        "broker",
        async () => {
          const started = await startLabBroker(config, log, stderrTerminal());
          broker = started.broker;
          if (config.monitor)
            monitor = await fleetMonitor({ ...config, broker_url: `mqtt://127.0.0.1:${started.port}` }, log);
        },
        () => broker?.stop(),
      ),
      unit(
        "monitor",
        () => monitor?.start(),
        () => monitor?.stop(),
      ),
    ],
    log,
  );
  const signalled = untilSignal();
  await units.start();
  log.info({ signal: await signalled }, "shutting down");
  await units.stop();
  return 0;
}

/** The fleet monitor alone, for the broker at --broker-url. */
export async function runMonitor(config: Config, log: Log): Promise<number> {
  const monitor = await fleetMonitor(config, log);
  const units = new Units([part("monitor", monitor)], log);
  try {
    await units.start();
  } catch (err) {
    console.error(
      `labx: could not connect to ${redactUrl(config.broker_url)}: ${redactUrl((err as Error).message)}`,
    );
    return 1;
  }
  log.info({ signal: await untilSignal() }, "shutting down");
  await units.stop();
  return 0;
}

async function fleetMonitor(config: Config, log: Log): Promise<FleetMonitor> {
  const { FleetMonitor } = await import("../monitor/fleet-monitor.js");
  return new FleetMonitor({
    brokerUrl: config.broker_url,
    baseTopic: config.base_topic,
    dataDir: config.data_dir,
    staleMs: config.sync_interval * 3000,
    validators: createValidators(),
    log: log.child({ module: "fleet" }),
    security: clientSecurity(config),
    clock: systemClock(),
  });
}
