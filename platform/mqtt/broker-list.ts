import { redactUrl } from "../secrets.js";

// Pure: `--broker-url a,b,c`, the members of one broker cluster a client moves between (MQTT.js's
// `servers`: each reconnect tries the next member, round robin). What MQTT.js takes from the URL
// besides host, port and scheme (credentials, a WebSocket path) is the same for every member, so the
// members must agree on it; TLS material and credentials given as options apply to all of them.

export interface BrokerMember {
  host: string;
  port: number;
  protocol: "mqtt" | "mqtts" | "ws" | "wss";
}

export interface BrokerList {
  /** The first member's URL as written: MQTT.js reads credentials and path from it. */
  url: string;
  /** Every member, in the order given; one for a single URL. */
  members: BrokerMember[];
}

const DEFAULT_PORTS = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 } as const;

/** One member's text as the user may see it: its password replaced. */
const shown = (text: string): string => JSON.stringify(redactUrl(text));

/** Parses a comma-separated list of broker URLs; throws an Error that names the faulty member. */
export function parseBrokerList(text: string): BrokerList {
  const parts = text.split(",").map((s) => s.trim());
  const parsed = parts.map((part, i) => {
    if (part === "") throw new Error(`broker URL ${i + 1} of ${parts.length} is empty`);
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      throw new Error(`${shown(part)} is not a URL (mqtt://host:port, mqtts://, ws://, wss://)`);
    }
    const protocol = u.protocol.replace(/:$/, "");
    if (!(protocol in DEFAULT_PORTS))
      throw new Error(`${shown(part)}: the scheme must be mqtt, mqtts, ws or wss`);
    if (u.hostname === "") throw new Error(`${shown(part)} names no host`);
    const p = protocol as BrokerMember["protocol"];
    const member: BrokerMember = {
      host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: u.port === "" ? DEFAULT_PORTS[p] : Number(u.port),
      protocol: p,
    };
    const path = p.startsWith("ws") ? u.pathname : "";
    return { member, userinfo: `${u.username}:${u.password}`, path, part };
  });
  const first = parsed[0]!;
  // MQTT.js keeps the first URL's path, and none after an mqtt:// first member.
  const wsPath = first.member.protocol.startsWith("ws") ? first.path : "/";
  for (const other of parsed.slice(1)) {
    if (other.userinfo !== first.userinfo)
      throw new Error(
        `${shown(other.part)}: every broker of the list must have the same user and password as the first (or none; use --broker-username and LABX_BROKER_PASSWORD)`,
      );
    if (other.member.protocol.startsWith("ws") && other.path !== wsPath)
      throw new Error(
        `${shown(other.part)}: every WebSocket broker of the list must have the first's path (${wsPath})`,
      );
  }
  return { url: first.part, members: parsed.map((p) => p.member) };
}
