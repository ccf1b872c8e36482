import { clientSchema } from "../platform/config/config-schema-mqtt.js";

// The controller's options (labx start|stop|status|watch) in the one convict config: the MQTT
// client's part shared with the node (broker, base topic, credentials: same flags, LABX_* variables
// and defaults), and its own. Names and times are checked in ctl-args.ts, with the flag in the message.

export const ctlSchema = {
  ...clientSchema,
  target: {
    doc: "The nodes addressed: a node id, a group or all.",
    format: String,
    default: "all",
    arg: "target",
  },
  session: { doc: "start: the session's name.", format: String, default: "", arg: "session" },
  duration: { doc: "start: seconds to record.", format: String, default: "", arg: "duration" },
  batch_duration: { doc: "start: seconds per batch.", format: String, default: "", arg: "batch-duration" },
  at: { doc: "start: ISO-8601 or epoch seconds.", format: String, default: "", arg: "at" },
  require_sync: {
    doc: "start: refuse unless each node's clock is synchronized (--no-require-sync: record regardless).",
    format: Boolean,
    default: false,
    arg: "require-sync",
  },
  timeout: { doc: "Seconds to wait for replies.", format: String, default: "10", arg: "timeout" },
  settle: { doc: "Seconds for retained messages to arrive.", format: String, default: "0.5", arg: "settle" },
  json: { doc: "Machine-readable output.", format: Boolean, default: false, arg: "json" },
  once: { doc: "watch: print once and exit.", format: Boolean, default: false, arg: "once" },
};

export type CtlSettings = { [K in keyof typeof ctlSchema]: (typeof ctlSchema)[K]["default"] };
