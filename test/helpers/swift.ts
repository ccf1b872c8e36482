import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "./ports.js";
import { exitedEarly, requireProgram } from "./tools.js";

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
  // Every program first: a missing one is said before anything is started.
  const programs = {
    memcached: requireProgram("memcached", "memcached"),
    ringBuilder: requireProgram("swift-ring-builder", "swift"),
    account: requireProgram("swift-account-server", "swift-account"),
    container: requireProgram("swift-container-server", "swift-container"),
    object: requireProgram("swift-object-server", "swift-object"),
    proxy: requireProgram("swift-proxy-server", "swift-proxy"),
  };
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
    execFileSync(programs.ringBuilder, [builder, "create", "4", "1", "1"]);
    execFileSync(programs.ringBuilder, [builder, "add", `r1z1-127.0.0.1:${port}/d1`, "100"]);
    execFileSync(programs.ringBuilder, [builder, "rebalance"]);
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
  const early: Promise<never>[] = [];
  const run = (cmd: string, args: string[]): ChildProcess => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let said = "";
    c.stderr!.on("data", (d: Buffer) => (said += d.toString()));
    children.push(c);
    early.push(exitedEarly(c, path.basename(cmd), () => said));
    return c;
  };
  run(programs.memcached, ["-p", String(memcachePort), "-l", "127.0.0.1", "-U", "0", "-u", "root"]);
  for (const kind of ["account", "container", "object"] as const)
    run(programs[kind], [path.join(dir, `${kind}-server.conf`)]);
  let proxy = run(programs.proxy, [path.join(dir, "proxy-server.conf")]);
  const stop = async (): Promise<void> => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map(exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ready = async () => {
      for (const port of [memcachePort, accountPort, containerPort, objectPort, proxyPort])
        await waitForPort(port, 20_000);
    };
    await Promise.race([ready(), ...early]);
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
      proxy = run(programs.proxy, [path.join(dir, "proxy-server.conf")]);
      await Promise.race([waitForPort(proxyPort, 20_000), early.at(-1)!]);
    },
    stop,
  };
}
