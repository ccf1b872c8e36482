import { assertName as name } from "../../contract/names.js";

// The MQTT part of the convict schema (config-schema.ts): the broker the node talks to, the embedded
// broker it can run, and the topics it publishes under. Formats are registered in config-schema.ts.

/** A convict format: a whole number from `min` to `max`, or a clear error. */
const wholeNumber =
  (min: number, max: number, unit: string) =>
  (v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      throw new Error(`must be a whole number ${unit}from ${min} to ${max}`);
  };

export const mqttSchema = {
  broker_url: {
    doc: "MQTT broker to connect to; the members of one cluster comma-separated (mqtt://a:1883,mqtt://b:1883): a lost connection moves to the next member.",
    format: "broker-urls",
    default: "mqtt://127.0.0.1:1883",
    arg: "broker-url",
    env: "LABX_BROKER_URL",
  },
  base_topic: {
    doc: "Topic prefix.",
    format: name,
    default: "labx",
    arg: "base-topic",
    env: "LABX_BASE_TOPIC",
  },
  mqtt_keepalive: {
    doc: "Seconds between MQTT keepalive pings: a lost connection is noticed within about this, and the broker publishes the offline will after 1.5 times it.",
    format: "nat",
    default: 30,
    arg: "mqtt-keepalive",
    env: "LABX_MQTT_KEEPALIVE",
  },
  ha_discovery: {
    doc: "Announce the node to Home Assistant (MQTT device discovery); --no-ha-discovery removes it.",
    format: Boolean,
    default: true,
    arg: "ha-discovery",
    env: "LABX_HA_DISCOVERY",
  },
  ha_prefix: {
    doc: "Home Assistant's discovery prefix.",
    format: name,
    default: "homeassistant",
    arg: "ha-prefix",
    env: "LABX_HA_PREFIX",
  },
  embedded_broker: {
    doc: "Run an aedes broker in this process and connect to it.",
    format: Boolean,
    default: false,
    arg: "embedded-broker",
    env: "LABX_EMBEDDED_BROKER",
  },
  broker_port: {
    doc: "Port of the embedded broker.",
    format: "port",
    default: 1883,
    arg: "broker-port",
    env: "LABX_BROKER_PORT",
  },
  auth_file: {
    doc: "Embedded broker: JSON file of users (labx passwd hashes) and roles; clients must log in and follow their role's rules. Empty: the lab's own logins, made in <data-dir>/.labx/ at the first start (labx credentials shows them), and anonymous clients from this machine only.",
    format: String,
    default: "",
    arg: "auth-file",
    env: "LABX_AUTH_FILE",
  },
  allow_anonymous: {
    doc: "Embedded broker and dashboard: take anonymous clients and page logins from every host, not only this machine (anyone on the network can then command every node; docs/security.md).",
    format: Boolean,
    default: false,
    arg: "allow-anonymous",
    env: "LABX_ALLOW_ANONYMOUS",
  },
  broker_max_connections: {
    doc: "Embedded broker: connections open at once, at most (over every listener).",
    format: wholeNumber(1, 1_000_000, ""),
    default: 4096,
    arg: "broker-max-connections",
    env: "LABX_BROKER_MAX_CONNECTIONS",
  },
  broker_max_keepalive: {
    doc: "Embedded broker: the longest keepalive a client may keep (s), so that a dead client's will is published within 1.5 times it: an MQTT 5 client asking more (or none) is told this one in its CONNACK, an MQTT 3.1.1 client asking more or none is refused, as mosquitto's max_keepalive does (many 3.1.1 devices ask none: keep 0 unless every client is known); 0: no limit.",
    format: wholeNumber(0, 65_535, "of seconds "),
    default: 0,
    arg: "broker-max-keepalive",
    env: "LABX_BROKER_MAX_KEEPALIVE",
  },
  broker_max_packet_kb: {
    doc: "Embedded broker: the largest MQTT packet or WebSocket message taken (KiB); a larger one closes its connection.",
    format: wholeNumber(1, 262_144, "of KiB "), // MQTT's 256 MiB at most
    default: 2048,
    arg: "broker-max-packet-kb",
    env: "LABX_BROKER_MAX_PACKET_KB",
  },
  tls_port: {
    doc: "Embedded broker: also listen for MQTT over TLS on this port (0: off; needs --tls-cert and --tls-key).",
    format: "port",
    default: 0,
    arg: "tls-port",
    env: "LABX_TLS_PORT",
  },
  tls_cert: {
    doc: "Embedded broker: PEM certificate (chain) for the TLS listener.",
    format: String,
    default: "",
    arg: "tls-cert",
    env: "LABX_TLS_CERT",
  },
  tls_key: {
    doc: "Embedded broker: PEM private key for the TLS listener.",
    format: String,
    default: "",
    arg: "tls-key",
    env: "LABX_TLS_KEY",
  },
  ws_port: {
    doc: "Embedded broker: also listen for MQTT over WebSocket on this port (0: off).",
    format: "port",
    default: 0,
    arg: "ws-port",
    env: "LABX_WS_PORT",
  },
  broker_username: {
    doc: "User name for the broker (node, monitor).",
    format: String,
    default: "",
    arg: "broker-username",
    env: "LABX_BROKER_USERNAME",
  },
  broker_password: {
    doc: "Password for the broker; prefer the environment variable, which ps does not show.",
    format: String,
    default: "",
    sensitive: true,
    arg: "broker-password",
    env: "LABX_BROKER_PASSWORD",
  },
  broker_ca: {
    doc: "PEM CA certificate to verify an mqtts:// broker with (default: the system's CAs).",
    format: String,
    default: "",
    arg: "broker-ca",
    env: "LABX_BROKER_CA",
  },
  broker_cert: {
    doc: "PEM client certificate for brokers that require one.",
    format: String,
    default: "",
    arg: "broker-cert",
    env: "LABX_BROKER_CERT",
  },
  broker_key: {
    doc: "PEM private key of --broker-cert.",
    format: String,
    default: "",
    arg: "broker-key",
    env: "LABX_BROKER_KEY",
  },
  broker_host: {
    doc: "Address the embedded broker listens on.",
    format: String,
    default: "0.0.0.0",
    arg: "broker-host",
    env: "LABX_BROKER_HOST",
  },
};

/** What any MQTT client of labx needs (the controller's part of the schema): broker, topics, credentials. */
export const clientSchema = {
  broker_url: mqttSchema.broker_url,
  base_topic: mqttSchema.base_topic,
  broker_username: mqttSchema.broker_username,
  broker_password: mqttSchema.broker_password,
  broker_ca: mqttSchema.broker_ca,
  broker_cert: mqttSchema.broker_cert,
  broker_key: mqttSchema.broker_key,
};
