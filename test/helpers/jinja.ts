import { execFileSync, spawnSync } from "node:child_process";

// Home Assistant renders MQTT value templates with Jinja2 in a sandbox, given `value` (the payload
// text) and `value_json` (it parsed). The same engine renders them here (Debian's python3-jinja2).
const PYTHON = "/usr/bin/python3";

const SCRIPT = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment()
jobs = json.load(sys.stdin)
out = []
for job in jobs:
    value = job["value"]
    try:
        value_json = json.loads(value)
    except ValueError:
        value_json = None
    out.append(env.from_string(job["template"]).render(value=value, value_json=value_json))
json.dump(out, sys.stdout)
`;

/** Why Jinja2 cannot run here, or null when it can. */
export function jinjaUnavailable(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import jinja2"], { encoding: "utf8" });
  return r.status === 0 ? null : `python3-jinja2 is not installed (${PYTHON} -c "import jinja2" failed)`;
}

/** Renders each template against its payload text, as Home Assistant would. */
export function renderTemplates(jobs: { template: string; value: string }[]): string[] {
  return JSON.parse(
    execFileSync(PYTHON, ["-c", SCRIPT], { input: JSON.stringify(jobs), encoding: "utf8" }),
  ) as string[];
}
