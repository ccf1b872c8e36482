// Pure: docs/mqtt-api.md from schemas/*.schema.json (the single source of the payloads) and the
// topic table below (the contract's). gen-docs.ts writes it; a unit test fails when it is stale.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

type Schema = {
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  $ref?: string;
  oneOf?: Schema[];
  items?: Schema;
  required?: string[];
  properties?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
};

/** Every topic, with the schema of its payload (null: plain text). */
export const TOPICS: {
  topic: string;
  direction: string;
  retained: boolean;
  schema: string | null;
  note: string;
}[] = [
  {
    topic: "labx/<node-id | group | all>/cmd",
    direction: "to nodes",
    retained: false,
    schema: "command",
    note: "JSON, or a bare word: `start`, `stop`, `status`",
  },
  {
    topic: "labx/<node-id>/reply",
    direction: "from a node",
    retained: false,
    schema: "reply",
    note: "one per command; also on the MQTT v5 Response Topic, with its Correlation Data",
  },
  {
    topic: "labx/<node-id>/availability",
    direction: "from a node",
    retained: true,
    schema: null,
    note: "`online`, or `offline` (the MQTT will, and on a clean stop)",
  },
  {
    topic: "labx/<node-id>/state",
    direction: "from a node",
    retained: true,
    schema: "state",
    note: "on every change, every reconnect, and when free space changes",
  },
  {
    topic: "labx/<node-id>/clock",
    direction: "from a node",
    retained: true,
    schema: "clock",
    note: "every `--sync-interval` seconds; with `--disable-sync` once, `synced: false`, reason `sync disabled`",
  },
  {
    topic: "labx/<node-id>/batch",
    direction: "from a node",
    retained: false,
    schema: "batch",
    note: "one per finished batch; at least once, in order (deduplicate by `session` + `seq`)",
  },
  {
    topic: "labx/<node-id>/event",
    direction: "from a node",
    retained: false,
    schema: "event",
    note: "warnings and faults",
  },
  {
    topic: "labx/fleet/clock",
    direction: "from `labx monitor`",
    retained: true,
    schema: "fleet-clock",
    note: "the fleet's clock spread",
  },
  {
    topic: "homeassistant/device/<node-id>/config",
    direction: "from a node",
    retained: true,
    schema: null,
    note: "Home Assistant device discovery (`--ha-prefix`, off with `--no-ha-discovery`)",
  },
];

/** Schema titles by file name, for links between schemas. */
type Titles = ReadonlyMap<string, string>;

function resolve(root: Schema, s: Schema): [string | null, Schema] {
  if (!s.$ref) return [null, s];
  const m = /^(?:([\w.-]+\.schema\.json))?#\/definitions\/(\w+)$/.exec(s.$ref);
  if (m?.[2] && !m[1] && root.definitions?.[m[2]])
    return [m[2], { ...root.definitions[m[2]], ...s, $ref: undefined }];
  return [s.$ref.replace(".schema.json", ""), s];
}

function typeOf(root: Schema, s0: Schema, titles: Titles): string {
  const [refName, s] = resolve(root, s0);
  if (s.$ref && refName)
    return `[${titles.get(refName) ?? refName}](#${anchor(titles.get(refName), refName)})`;
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(", ");
  if (s.oneOf) return s.oneOf.map((o) => typeOf(root, o, titles)).join(" or ");
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  let t = types.join(" \\| ") || "any";
  if (s.type === "array" && s.items) t = `array of ${typeOf(root, s.items, titles)}`;
  const facets = [
    s.format,
    s.pattern && `\`${s.pattern.replace(/\|/g, "\\|")}\``,
    s.minimum !== undefined && `≥ ${s.minimum}`,
    s.exclusiveMinimum !== undefined && `> ${s.exclusiveMinimum}`,
    s.maximum !== undefined && `≤ ${s.maximum}`,
    s.maxLength !== undefined && `≤ ${s.maxLength} chars`,
  ].filter(Boolean);
  return facets.length ? `${t} (${facets.join(", ")})` : t;
}

function fieldRows(root: Schema, s: Schema, titles: Titles, prefix = ""): string[] {
  const rows: string[] = [];
  for (const [name, p0] of Object.entries(s.properties ?? {})) {
    const [, p] = resolve(root, p0);
    const required = s.required?.includes(name) ? "yes" : "";
    const doc = (p0.description ?? p.description ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
    rows.push(`| \`${prefix}${name}\` | ${typeOf(root, p0, titles)} | ${required} | ${doc} |`);
    if (p.properties) rows.push(...fieldRows(root, p, titles, `${prefix}${name}.`));
  }
  return rows;
}

function table(root: Schema, s: Schema, titles: Titles): string[] {
  return ["| field | type | required | meaning |", "|---|---|---|---|", ...fieldRows(root, s, titles)];
}

function renderSchema(name: string, root: Schema, titles: Titles): string[] {
  const out = [`## ${root.title ?? name} (\`schemas/${name}.schema.json\`)`, "", root.description ?? "", ""];
  const variants = (root.oneOf ?? []).map((v) => resolve(root, v)).filter(([n]) => n !== null) as [
    string,
    Schema,
  ][];
  if (variants.length) {
    for (const [vname, v] of variants) {
      out.push(`### ${v.title ?? vname}`, "");
      if (v.description) out.push(v.description, "");
      out.push(...table(root, v, titles), "");
    }
  } else out.push(...table(root, root, titles), "");
  return out;
}

export function renderApi(schemasDir: string): string {
  const names = readdirSync(schemasDir)
    .filter((f) => f.endsWith(".schema.json"))
    .map((f) => f.replace(".schema.json", ""))
    .sort((a, b) => TOPICS.findIndex((t) => t.schema === a) - TOPICS.findIndex((t) => t.schema === b));
  const schemas = new Map(
    names.map((n) => [
      n,
      JSON.parse(readFileSync(path.join(schemasDir, `${n}.schema.json`), "utf8")) as Schema,
    ]),
  );
  const titles: Titles = new Map([...schemas].map(([n, sc]) => [n, sc.title ?? n]));
  const topicRows = TOPICS.map(
    (t) =>
      `| \`${t.topic.replace(/\|/g, "\\|")}\` | ${t.direction} | ${t.retained ? "yes" : "no"} | 1 | ${t.schema ? `[${schemas.get(t.schema)?.title ?? t.schema}](#${anchor(schemas.get(t.schema)?.title, t.schema)})` : "text"} | ${t.note} |`,
  );
  return [
    "# MQTT API reference",
    "",
    "Generated from `schemas/*.schema.json` by `npm run gen:docs`; do not edit by hand. The schemas are",
    "what the node validates commands against and what the tests validate its messages against. The",
    "base topic `labx` is `--base-topic`; every message is QoS 1. Recipes: [cookbook.md](cookbook.md);",
    "error codes: [errors.md](errors.md).",
    "",
    "| topic | direction | retained | QoS | payload | notes |",
    "|---|---|---|---|---|---|",
    ...topicRows,
    "",
    ...names.flatMap((n) => renderSchema(n, schemas.get(n)!, titles)),
  ].join("\n");
}

function anchor(title: string | undefined, name: string): string {
  return `${title ?? name} (schemas/${name}.schema.json)`
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");
}
