// Pure: what `labx doctor` says of what the node exposes: who may command it over the network, and
// whether a password in ffmpeg's arguments is visible to other users of this machine (docs/security.md).
import type { Config } from "../../platform/config/config.js";
import { urlSecrets } from "../../platform/secrets.js";
import type { CheckResult } from "./doctor-checks.js";

export function checkNetworkAccess(
  config: Pick<Config, "allow_anonymous" | "embedded_broker" | "auth_file" | "data_dir">,
): CheckResult {
  if (config.allow_anonymous)
    return {
      check: "network access",
      verdict: "fail",
      detail:
        "--allow-anonymous: anyone on this network may connect without a login and command every node; drop it, and log in with the lab's logins (labx credentials)",
    };
  if (!config.embedded_broker)
    return {
      check: "network access",
      verdict: "ok",
      detail: "the broker's own rules apply (this node embeds none)",
    };
  return {
    check: "network access",
    verdict: "ok",
    detail: config.auth_file
      ? `only the users of ${config.auth_file}; no anonymous client`
      : `anonymous clients from this machine only; other hosts log in (labx credentials --data-dir ${config.data_dir})`,
  };
}

/** `mounts`: the text of /proc/mounts (null: unreadable). */
export function checkArgumentSecrets(
  config: Pick<Config, "camera" | "broker_url">,
  mounts: string | null,
): CheckResult {
  const inArguments = urlSecrets(config.camera).length > 0;
  if (!inArguments)
    return { check: "secrets in /proc", verdict: "ok", detail: "the camera's URL carries no password" };
  const proc = (mounts ?? "").split("\n").find((l) => l.split(" ")[1] === "/proc");
  const hidden = proc !== undefined && /(?:^|,)hidepid=(?:2|invisible)(?:,|$)/.test(proc.split(" ")[3] ?? "");
  return hidden
    ? {
        check: "secrets in /proc",
        verdict: "ok",
        detail: "/proc is mounted hidepid: other users cannot read ffmpeg's arguments",
      }
    : {
        check: "secrets in /proc",
        verdict: "warn",
        detail:
          "the camera's password is in ffmpeg's arguments, which every user of this machine can read in /proc: mount -o remount,hidepid=invisible /proc (and add hidepid=invisible to /proc's line in /etc/fstab)",
      };
}
