import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "contract/generated/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
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
  ...layer("contract/**", ["platform", "node", "broker", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("platform/**", ["node", "broker", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("node/**", ["broker", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("broker/**", ["node", "ctl", "monitor", "align", "ui", "cli"]),
  ...layer("ctl/**", ["node", "broker", "monitor", "align", "ui", "cli"]),
  ...layer("monitor/**", ["node", "broker", "ctl", "align", "ui", "cli"]),
  ...layer("align/**", ["node", "broker", "ctl", "monitor", "ui", "cli"]),
  ...layer("ui/**", ["node", "broker", "ctl", "monitor", "align", "cli"]),
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

/** A folder that may not import from the named top-level folders (relative imports of any depth). */
function layer(files, forbidden, ignores = []) {
  return [
    {
      files: [files],
      ignores,
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: forbidden.map((dir) => ({
              regex: `^(\\.\\./)+${dir}/`,
              message: `${files.split("/")[0]}/ may not import from ${dir}/: imports point contract <- platform <- apps (docs/architecture.md)`,
            })),
          },
        ],
      },
    },
  ];
}
