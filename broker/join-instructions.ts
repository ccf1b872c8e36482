// Pure: the plain words a person reads at a lab broker's first start, and from `labx credentials`: how
// another Pi joins, and how a person logs in. Passwords appear only where `showPasswords` says so.
import type { LabCredentials } from "../contract/generated/payloads.js";

export interface JoinContext {
  credentials: LabCredentials;
  /** This machine's addresses another host can reach (none: a placeholder is printed). */
  addresses: readonly string[];
  brokerPort: number;
  /** The dashboard's port, when this process serves one. */
  uiPort: number | null;
  dataDir: string;
  allowAnonymous: boolean;
  showPasswords: boolean;
}

/** A shell word, quoted for POSIX shells (passwords are base64url, but a user may have edited the file). */
const sq = (s: string): string => (/^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function joinInstructions(c: JoinContext): string {
  const host = c.addresses[0] ?? "<this-machine's-address>";
  const hidden = `"$(labx credentials --data-dir ${sq(c.dataDir)} --show join)"`;
  const joinPassword = c.showPasswords ? sq(c.credentials.join.password) : hidden;
  const controllerPassword = c.showPasswords
    ? c.credentials.controller.password
    : `(shown by: labx credentials --data-dir ${sq(c.dataDir)})`;
  const open = c.allowAnonymous
    ? "ANYONE on this network may connect without a login and command every node (--allow-anonymous)."
    : "Anonymous clients are taken from this machine only; every other host logs in.";
  const lines = [
    `labx: the lab's broker is mqtt://${host}:${c.brokerPort}. ${open}`,
    `  Another Pi joins it (give it its own --sbc-id):`,
    `    LABX_BROKER_PASSWORD=${joinPassword} labx node --broker-url mqtt://${host}:${c.brokerPort} --broker-username ${sq(c.credentials.join.username)} --sbc-id SBC002`,
    `  A person logs in${c.uiPort !== null ? ` to the dashboard (http://${host}:${c.uiPort}/)` : ""}, labx start/stop/status or Home Assistant as`,
    `    user ${c.credentials.controller.username}, password ${controllerPassword}`,
    `  These logins are kept in ${c.dataDir}/.labx/ (mode 0600); labx credentials --data-dir ${sq(c.dataDir)} shows them again,`,
    `  --rotate makes new ones (docs/security.md).`,
  ];
  return lines.join("\n") + "\n";
}
