// What the lab sees: the node's camera preview (labx/<id>/preview) and the dashboard (`labx ui`, or
// a node's own with --ui-port). Part of the one convict schema (config-schema.ts).

export const uiSchema = {
  preview_interval: {
    doc: "While recording, publish a small JPEG of the camera on labx/<id>/preview (retained) about this often (s); 0: no preview.",
    format: (v: unknown) => {
      if (typeof v !== "number" || !(v === 0 || (v >= 1 && v <= 3600)))
        throw new Error("must be 0 (off) or a number of seconds from 1 to 3600");
    },
    default: 5,
    arg: "preview-interval",
    env: "LABX_PREVIEW_INTERVAL",
  },
  preview_max_kb: {
    doc: "A preview is at most this many KiB: a larger camera frame is scaled down first.",
    format: (v: unknown) => {
      if (!Number.isInteger(v) || (v as number) < 8 || (v as number) > 1024)
        throw new Error("must be a whole number of KiB from 8 to 1024");
    },
    default: 100,
    arg: "preview-max-kb",
    env: "LABX_PREVIEW_MAX_KB",
  },
  preview_width: {
    doc: "Width a scaled or decoded preview is made (pixels; a camera frame within --preview-max-kb is sent as it is).",
    format: (v: unknown) => {
      if (!Number.isInteger(v) || (v as number) < 64 || (v as number) > 1920)
        throw new Error("must be a whole number of pixels from 64 to 1920");
    },
    default: 480,
    arg: "preview-width",
    env: "LABX_PREVIEW_WIDTH",
  },
  ui_port: {
    doc: "Serve the dashboard on this port (`labx ui`: 8080 when not given; `labx node`: no dashboard when not given).",
    format: "optional-port",
    default: null as number | null,
    arg: "ui-port",
    env: "LABX_UI_PORT",
  },
  ui_host: {
    doc: "Address the dashboard listens on.",
    format: String,
    default: "0.0.0.0",
    arg: "ui-host",
    env: "LABX_UI_HOST",
  },
  ui_allowed_hosts: {
    doc: "Host names the dashboard answers to besides this machine's own names and addresses (comma-separated), e.g. a DNS name of the Pi; any other Host header is refused (DNS rebinding).",
    format: String,
    default: "",
    arg: "ui-allowed-hosts",
    env: "LABX_UI_ALLOWED_HOSTS",
  },
  ui_sync_threshold_ms: {
    doc: "The dashboard's clock plot marks this offset between two nodes (ms) as the limit of acceptable sync.",
    format: "positive-number",
    default: 1,
    arg: "ui-sync-threshold-ms",
    env: "LABX_UI_SYNC_THRESHOLD_MS",
  },
  ui_tls_cert: {
    doc: "Serve the dashboard over HTTPS with this PEM certificate (chain); needs --ui-tls-key.",
    format: String,
    default: "",
    arg: "ui-tls-cert",
    env: "LABX_UI_TLS_CERT",
  },
  ui_tls_key: {
    doc: "PEM private key for the dashboard's HTTPS.",
    format: String,
    default: "",
    arg: "ui-tls-key",
    env: "LABX_UI_TLS_KEY",
  },
};
