import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "./ports.js";

// A real S3-compatible store for tests: OpenStack Swift all-in-one on loopback (account, container and
// object servers with one device each, a proxy with the s3api, tempauth and slo middlewares, and the
// memcached tempauth needs), every port free, its folder the test's. Debian's swift packages (.ci/run).
// S3 credentials: access key "test:tester", secret "testing".

export interface SwiftStore {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stops the proxy (the store's front door): uploads fail as when the store is down. */
  down(): Promise<void>;
  /** Starts the proxy again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

const exited = (c: ChildProcess): Promise<unknown> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", r));

export async function startSwift(): Promise<SwiftStore> {
  const dir = mkdtempSync(path.join(tmpdir(), "labx-swift-"));
  const [proxyPort, accountPort, containerPort, objectPort, memcachePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  mkdirSync(path.join(dir, "srv", "d1"), { recursive: true });
  writeFileSync(
    path.join(dir, "swift.conf"),
    "[swift-hash]\nswift_hash_path_suffix = labxtest\nswift_hash_path_prefix = labx\n[storage-policy:0]\nname = gold\ndefault = yes\n",
  );
  const servers = { account: accountPort, container: containerPort, object: objectPort };
  for (const [kind, port] of Object.entries(servers)) {
    const builder = path.join(dir, `${kind}.builder`);
    execFileSync("swift-ring-builder", [builder, "create", "4", "1", "1"]);
    execFileSync("swift-ring-builder", [builder, "add", `r1z1-127.0.0.1:${port}/d1`, "100"]);
    execFileSync("swift-ring-builder", [builder, "rebalance"]);
    writeFileSync(
      path.join(dir, `${kind}-server.conf`),
      `[DEFAULT]\ndevices = ${dir}/srv\nmount_check = false\nbind_ip = 127.0.0.1\nbind_port = ${port}\nworkers = 0\nuser = root\nswift_dir = ${dir}\nlog_level = WARNING\n` +
        `[pipeline:main]\npipeline = ${kind}-server\n[app:${kind}-server]\nuse = egg:swift#${kind}\n`,
    );
  }
  const filters = [
    "catch_errors",
    "gatekeeper",
    "healthcheck",
    "proxy_logging",
    "memcache",
    "s3api",
    "tempauth",
    "slo",
    "dlo",
  ];
  writeFileSync(
    path.join(dir, "proxy-server.conf"),
    `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${proxyPort}\nworkers = 0\nuser = root\nswift_dir = ${dir}\nlog_level = WARNING\n` +
      "[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck proxy_logging memcache s3api tempauth slo dlo proxy_logging proxy-server\n" +
      "[app:proxy-server]\nuse = egg:swift#proxy\nallow_account_management = true\naccount_autocreate = true\n" +
      "[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = testing .admin\n" +
      filters
        .filter((f) => f !== "tempauth")
        .map(
          (f) =>
            `[filter:${f}]\nuse = egg:swift#${f}\n${f === "memcache" ? `memcache_servers = 127.0.0.1:${memcachePort}\n` : ""}`,
        )
        .join(""),
  );
  const children: ChildProcess[] = [];
  const run = (cmd: string, args: string[]): ChildProcess => {
    const c = spawn(cmd, args, { stdio: "ignore" });
    children.push(c);
    return c;
  };
  run("memcached", ["-p", String(memcachePort), "-l", "127.0.0.1", "-U", "0", "-u", "root"]);
  for (const kind of Object.keys(servers))
    run(`swift-${kind}-server`, [path.join(dir, `${kind}-server.conf`)]);
  let proxy = run("swift-proxy-server", [path.join(dir, "proxy-server.conf")]);
  const stop = async (): Promise<void> => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map(exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of [memcachePort, accountPort, containerPort, objectPort, proxyPort])
      await waitForPort(port, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    credentials: { accessKeyId: "test:tester", secretAccessKey: "testing" },
    down: async () => {
      proxy.kill("SIGKILL");
      await exited(proxy);
    },
    up: async () => {
      proxy = run("swift-proxy-server", [path.join(dir, "proxy-server.conf")]);
      await waitForPort(proxyPort, 20_000);
    },
    stop,
  };
}
