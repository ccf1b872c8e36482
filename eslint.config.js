import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

const DATE_NOW = { object: "Date", property: "now", message: "take the Clock's now() (platform/clock.ts)" };
const PROCESS_ENV = {
  object: "process",
  property: "env",
  message:
    "process.env is read by platform/config/ only: take the Environment the composition root hands down (docs/architecture.md)",
};
/** One no-restricted-properties list per group of files (a later block would replace an earlier one's). */
const restrictedProperties = (files, ignores, properties) => [
  { files: [files], ignores, rules: { "no-restricted-properties": ["error", ...properties] } },
];
/** What contract/ never imports: it describes the wire and does no I/O (docs/architecture.md). */
const IO_MODULES = ["fs", "fs/promises", "net", "child_process", "dgram", "http", "https", "tls", "http2"];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "contract/generated/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly" },
      parserOptions: { tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    files: ["test/**", "bench/**", "scripts/**", "cli/**"],
    rules: { "no-console": "off" },
  },
  // Imports point one way: contract (the wire, no I/O) <- platform (config, log, MQTT, durable files)
  // <- the apps (node, broker, ctl, monitor, align, ui), which never import each other <- cli/, the one entry
  // point, which wires them all. See docs/architecture.md.
  ...layer("contract/**", ["platform", "node", "broker", "ctl", "monitor", "align", "ui", "cli"], IO_MODULES),
  ...layer("platform/**", ["node", "broker", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("node/**", ["broker", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("broker/**", ["node", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("ctl/**", ["node", "broker", "monitor", "align", "ui", "cli"]),
  ...layer("monitor/**", ["node", "broker", "ctl", "align", "ui", "cli"]),
  ...layer("align/**", ["node", "broker", "ctl", "monitor", "ui", "cli"]),
  ...layer("ui/**", ["node", "broker", "ctl", "monitor", "align", "cli"]),
  // The environment is read once, by the configuration (platform/config/environment.ts), and handed
  // down; time is the process's Clock (platform/clock.ts), handed down too: never the globals.
  ...restrictedProperties(
    "{contract,platform,cli,broker,ctl,monitor,align,ui,node}/**/*.ts",
    ["platform/config/**", "platform/clock.ts"],
    [DATE_NOW, PROCESS_ENV],
  ),
  ...restrictedProperties("platform/config/**/*.ts", [], [DATE_NOW]),
  ...restrictedProperties("platform/clock.ts", [], [PROCESS_ENV]),
  {
    files: ["{contract,platform,cli,broker,ctl,monitor,align,ui,node}/**/*.ts"],
    ignores: ["platform/clock.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        ...["setTimeout", "setInterval", "clearTimeout", "clearInterval"].map((name) => ({
          name,
          message: "take the Clock's timers (platform/clock.ts)",
        })),
      ],
    },
  },
  // No import cycle inside an app (or anywhere in the product): its folders point one way too.
  {
    files: ["{contract,platform,cli,broker,ctl,monitor,align,ui,node}/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  // The dashboard's page runs in the browser: plain modules, uPlot as a global.
  {
    files: ["ui/public/**"],
    languageOptions: {
      globals: {
        document: "readonly",
        window: "readonly",
        fetch: "readonly",
        EventSource: "readonly",
        FormData: "readonly",
        Node: "readonly",
        uPlot: "readonly",
        setInterval: "readonly",
        performance: "readonly",
        URLSearchParams: "readonly",
      },
    },
  },
);

/**
 * A folder that may not import from the named top-level folders (relative imports of any depth), nor the
 * named Node.js modules: static imports and exports (values and types), dynamic import() and type
 * queries (`typeof import("…")`) alike.
 */
function layer(files, forbidden, modules = []) {
  const top = files.split("/")[0];
  const why = (dir) =>
    `${top}/ may not import from ${dir}/: imports point contract <- platform <- apps (docs/architecture.md)`;
  const folders = `^(\\.\\./)+(${forbidden.join("|")})/`;
  const builtins = `^(node:)?(${modules.join("|")})$`;
  const ioWhy = `${top}/ does no I/O: no ${modules.join(", ")} (docs/architecture.md)`;
  // In a selector a regex ends at its first unescaped '/'.
  const inSelector = (re) => re.replaceAll("/", "\\/");
  const specifier = (source) => [
    {
      selector: `ImportExpression[${source}=/${inSelector(folders)}/]`,
      message: `${top}/: a wrong-way dynamic import (docs/architecture.md)`,
    },
    ...(modules.length
      ? [{ selector: `ImportExpression[${source}=/${inSelector(builtins)}/]`, message: ioWhy }]
      : []),
  ];
  return [
    {
      files: [files],
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: [
              ...forbidden.map((dir) => ({ regex: `^(\\.\\./)+${dir}/`, message: why(dir) })),
              ...(modules.length ? [{ regex: builtins, message: ioWhy }] : []),
            ],
          },
        ],
        "no-restricted-syntax": [
          "error",
          ...specifier("source.value"),
          {
            selector: `TSImportType[argument.literal.value=/${inSelector(folders)}/]`,
            message: `${top}/: a wrong-way type query (docs/architecture.md)`,
          },
          ...(modules.length
            ? [{ selector: `TSImportType[argument.literal.value=/${inSelector(builtins)}/]`, message: ioWhy }]
            : []),
        ],
      },
    },
  ];
}
