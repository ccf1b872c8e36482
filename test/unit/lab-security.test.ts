import assert from "node:assert/strict";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { anonymousAllowed, clientIdentity, joinNodeId } from "../../broker/access.js";
import { mayPublish, maySubscribe } from "../../broker/acl.js";
import { loadAuthFile } from "../../broker/auth-file.js";
import { installAdmission } from "../../broker/admission.js";
import { joinInstructions } from "../../broker/join-instructions.js";
import {
  ensureLabCredentials,
  readLabCredentials,
  rotateLabCredentials,
} from "../../broker/lab-credentials.js";
import { createValidators } from "../../contract/schemas.js";
import { childEnvironment } from "../../platform/config/child-env.js";
import { isLoopbackAddress, RateLimiter } from "../../platform/net/rate-limit.js";
import { withoutUserInfo } from "../../platform/secrets.js";
import { localPathOf } from "../../align/fetch-cli.js";
import { readCheckedManifest } from "../../align/session-reader.js";
import { hostAllowed, hostOf } from "../../ui/host-allowlist.js";
import { LoginGuard } from "../../ui/login-guard.js";
import { FleetCache, DEFAULT_LIMITS } from "../../ui/fleet-cache.js";
import { verifyPassword } from "../../broker/password.js";
import { tempDir } from "../helpers/node.js";
import { checkArgumentSecrets, checkNetworkAccess } from "../../node/doctor/exposure-checks.js";
import { systemClock } from "../../platform/clock.js";
import { FakeClock } from "../helpers/fake-clock.js";

const validators = createValidators();

describe("who may connect (pure)", () => {
  it("anonymous: never, loopback only (v4, mapped, v6), or anywhere", () => {
    for (const a of ["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"]) assert.ok(isLoopbackAddress(a), a);
    for (const a of ["10.231.0.2", "::ffff:10.0.0.1", "fe80::1", "", undefined, "1270.0.0.1"])
      assert.ok(!isLoopbackAddress(a), String(a));
    assert.ok(anonymousAllowed("loopback", "127.0.0.1"));
    assert.ok(!anonymousAllowed("loopback", "10.231.0.2"));
    assert.ok(!anonymousAllowed("loopback", undefined));
    assert.ok(!anonymousAllowed("never", "127.0.0.1"));
    assert.ok(anonymousAllowed("anywhere", "10.231.0.2"));
  });

  it("a join login is the node its client id names, speaks only as that node, reads every command topic", () => {
    assert.equal(joinNodeId("labx-CAM02"), "CAM02");
    for (const id of ["laptop", "labx-", "labx-all", "labx-fleet", "labx-a/b", "labx-+", "LABX-x"])
      assert.equal(joinNodeId(id), null, id);
    const join = { username: "join", role: "join" as const, password_hash: "x" };
    const me = clientIdentity(join, "labx-CAM02")!;
    assert.equal(clientIdentity(join, "laptop"), null);
    assert.ok(mayPublish(me, "labx/CAM02/batch", "labx"));
    assert.ok(mayPublish(me, "homeassistant/device/CAM02/config", "labx"));
    for (const t of ["labx/CAM01/batch", "labx/CAM02/cmd", "labx/all/cmd", "labx/fleet/clock"])
      assert.ok(!mayPublish(me, t, "labx"), t);
    assert.ok(maySubscribe(me, "labx/row1/cmd", "labx"));
    assert.ok(!maySubscribe(me, "labx/#", "labx"));
    assert.ok(!maySubscribe(me, "labx/CAM01/state", "labx"));
  });

  it("an unknown user name costs the same scrypt check as a known one (the decoy hash is checked)", async () => {
    const checked: string[] = [];
    const hooks: Record<string, unknown> = { authorizePublish: () => {} };
    installAdmission(hooks as never, {
      users: new Map([["lab", { username: "lab", role: "controller", password_hash: "HASH-OF-LAB" }]]),
      anonymous: "never",
      baseTopic: "labx",
      log: pino({ level: "silent" }),
      addressOf: () => "10.231.0.2",
      verify: async (_pw, hash) => (checked.push(hash), false),
      decoyHash: "DECOY",
    });
    const authenticate = hooks.authenticate as (
      c: unknown,
      u?: string,
      p?: Buffer,
      d?: (e: unknown, ok: boolean) => void,
    ) => void;
    const answer = (user: string | undefined, pw?: string) =>
      new Promise<{ code?: number; ok: boolean }>((r) =>
        authenticate({ id: "x" }, user, pw === undefined ? undefined : Buffer.from(pw), (e, ok) =>
          r({ code: (e as { returnCode?: number } | null)?.returnCode, ok }),
        ),
      );
    assert.deepEqual(await answer("nobody", "pw"), { code: 4, ok: false });
    assert.deepEqual(await answer("lab", "wrong"), { code: 4, ok: false });
    assert.deepEqual(checked, ["DECOY", "HASH-OF-LAB"]);
    assert.deepEqual(await answer(undefined), { code: 5, ok: false });
  });
});

describe("the broker's limits (pure)", () => {
  it("a rate limiter allows its burst, refills over time, and forgets the least recently seen key first", () => {
    let now = 0;
    const r = new RateLimiter({ burst: 3, perSecond: 1, maxKeys: 2, monotonicMs: () => now });
    assert.deepEqual([r.take("a"), r.take("a"), r.take("a"), r.take("a")], [true, true, true, false]);
    assert.equal(r.retryAfterS("a"), 1);
    now += 1000;
    assert.deepEqual([r.take("a"), r.take("a")], [true, false]);
    r.take("b");
    r.take("c"); // "a" forgotten: a full burst again
    assert.deepEqual([r.take("a"), r.take("a"), r.take("a")], [true, true, true]);
  });
});

describe("the dashboard's guards (pure)", () => {
  it("Host names: this machine's and the allowed, with or without port; anything else refused", () => {
    const allowed = new Set(["localhost", "127.0.0.1", "::1", "pi5", "10.231.0.1", "lab.example.org"]);
    for (const h of [
      "localhost:8080",
      "127.0.0.1",
      "[::1]:8080",
      "PI5:80",
      "10.231.0.1:8080",
      "lab.example.org",
      "x.localhost:1",
    ])
      assert.ok(hostAllowed(h, allowed), h);
    for (const h of [
      "rebind.example",
      "rebind.example:8080",
      "10.231.0.1.nip.io",
      "",
      undefined,
      "a b",
      "127.0.0.1@evil",
    ])
      assert.ok(!hostAllowed(h, allowed), String(h));
    assert.equal(hostOf("[fe80::1]:80"), "fe80::1");
  });

  it("logins: rate-limited per address; anonymous from another host only with --allow-anonymous", () => {
    const strict = new LoginGuard({
      allowAnonymousRemote: false,
      burst: 2,
      perMinute: 60,
      monotonicMs: () => 0,
    });
    assert.deepEqual(strict.check("127.0.0.1", true), { ok: true });
    assert.equal((strict.check("10.231.0.2", true) as { status: number }).status, 401);
    assert.deepEqual(strict.check("10.231.0.2", false), { ok: true });
    assert.equal((strict.check("10.231.0.2", false) as { status: number }).status, 429);
    const open = new LoginGuard({
      allowAnonymousRemote: true,
      burst: 2,
      perMinute: 60,
      monotonicMs: () => 0,
    });
    assert.deepEqual(open.check("10.231.0.2", true), { ok: true });
  });

  it("the fleet cache forgets the node heard from least recently past its limit", () => {
    const cache = new FleetCache("labx", validators, { ...DEFAULT_LIMITS, nodes: 3 });
    for (const n of ["N1", "N2", "N3", "N1", "N4"])
      cache.apply(`labx/${n}/availability`, Buffer.from("online"), 1);
    const nodes = new Set(cache.replay().map((m) => m.node));
    assert.deepEqual([...nodes].sort(), ["N1", "N3", "N4"]);
  });

  it("a broker URL's login is dropped for page connections, each member of a list", () => {
    assert.equal(withoutUserInfo("mqtt://lab:S3cret@h:1883"), "mqtt://h:1883");
    assert.equal(
      withoutUserInfo("mqtts://u@a:1,mqtt://b:2, mqtt://x:y@c:3"),
      "mqtts://a:1,mqtt://b:2,mqtt://c:3",
    );
  });
});

describe("secrets and hostile data (pure, and files in a temporary folder)", () => {
  it("children's environment: the basic variables and the named ones, never secrets by default", () => {
    const env = {
      PATH: "/bin",
      HOME: "/h",
      LC_ALL: "C",
      PYTHONPATH: "/p",
      LABX_BROKER_PASSWORD: "s",
      AWS_SECRET_ACCESS_KEY: "k",
      X: "1",
    };
    assert.deepEqual(Object.keys(childEnvironment(env, [])).sort(), ["HOME", "LC_ALL", "PATH", "PYTHONPATH"]);
    assert.ok("X" in childEnvironment(env, ["X"]));
  });

  it("labx fetch: a key is placed under --to only as <node>/<session>/<plain file name>", () => {
    assert.deepEqual(localPathOf("p/q/N1/s1/N1_s1_000000000.mkv", "p/q", "s1"), {
      node: "N1",
      file: "N1_s1_000000000.mkv",
    });
    for (const key of [
      "p/q/../s1/x",
      "p/q/N1/s1/..",
      "p/q/N1/s1/.",
      "p/q/N1/s2/x",
      "p/q/N1/s1/a/b",
      "other/N1/s1/x",
      "p/q/all/s1/x",
    ])
      assert.equal(localPathOf(key, "p/q", "s1"), null, key);
  });

  it("a manifest line invalid against the schema, or naming a file outside its session, is skipped and said", () => {
    const dir = path.join(tempDir(), "s1");
    mkdirSync(dir);
    const good = {
      node: "N1",
      session: "s1",
      seq: 0,
      file: "s1/N1_s1_000000000.mkv",
      start: "2026-12-07T10:00:00.000000Z",
      end: "2026-12-07T10:00:01.000000Z",
      duration_s: 1,
      frames: 30,
      frames_file: "s1/N1_s1_000000000.frames.csv",
      bytes: 100,
      sha256: "0".repeat(64),
      clock: { synced: true },
    };
    assert.ok(validators.batch(good), JSON.stringify(validators.batch.errors));
    const lines = [
      good,
      { ...good, seq: 1, frames_file: "other/x.frames.csv" },
      { ...good, seq: 2, file: "s1/.." },
      { ...good, seq: 3, bytes: "many" },
    ];
    writeFileSync(
      path.join(dir, "manifest.jsonl"),
      lines.map((l) => JSON.stringify(l)).join("\n") + "\n{torn\n",
    );
    const { batches, skipped } = readCheckedManifest(dir, validators);
    assert.deepEqual(
      batches.map((b) => b.seq),
      [0],
    );
    assert.equal(skipped.length, 4, skipped.join("\n"));
  });

  it("the lab's logins: made once, 0600 in a 0700 folder, valid hashes, read again, rotated", async () => {
    const parent = tempDir();
    const dataDir = path.join(parent, "new-data");
    mkdirSync(path.join(parent, "plain")); // a folder made as any other is
    const first = await ensureLabCredentials(
      dataDir,
      validators,
      new FakeClock(Date.parse("2026-12-07T00:00:00Z")),
    );
    const again = await ensureLabCredentials(dataDir, validators, systemClock());
    assert.deepEqual([first.created, again.created], [true, false]);
    assert.deepEqual(again.credentials, first.credentials);
    assert.equal(statSync(first.authFile).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(first.authFile)).mode & 0o777, 0o700);
    assert.equal(
      statSync(dataDir).mode & 0o777,
      0o777 & ~process.umask(),
      "the data directory keeps the umask's mode",
    );
    const users = loadAuthFile(first.authFile);
    assert.equal(users.get("join")!.role, "join");
    assert.ok(await verifyPassword(first.credentials.controller.password, users.get("lab")!.password_hash));
    const rotated = await rotateLabCredentials(dataDir, systemClock());
    assert.notEqual(rotated.join.password, first.credentials.join.password);
    assert.deepEqual(await readLabCredentials(dataDir, validators), rotated);
    const text = joinInstructions({
      credentials: rotated,
      addresses: ["10.0.0.5"],
      brokerPort: 1883,
      uiPort: 8080,
      dataDir,
      allowAnonymous: false,
      showPasswords: false,
    });
    assert.match(text, /labx node --broker-url mqtt:\/\/10\.0\.0\.5:1883 --broker-username join --sbc-id/);
    assert.ok(!text.includes(rotated.join.password) && !text.includes(rotated.controller.password));
    const shown = joinInstructions({
      credentials: rotated,
      addresses: [],
      brokerPort: 1883,
      uiPort: null,
      dataDir,
      allowAnonymous: true,
      showPasswords: true,
    });
    assert.ok(shown.includes(rotated.join.password) && shown.includes(rotated.controller.password));
    assert.match(shown, /ANYONE on this network/);
  });
});

describe("labx doctor on exposure (pure)", () => {
  it("says --allow-anonymous fails, and a camera password in ffmpeg's arguments warns unless /proc is hidepid", () => {
    const base = { allow_anonymous: false, embedded_broker: true, auth_file: "", data_dir: "./data" };
    assert.equal(checkNetworkAccess(base).verdict, "ok");
    assert.equal(checkNetworkAccess({ ...base, allow_anonymous: true }).verdict, "fail");
    const cam = { camera: "rtsp://u:pw@cam/1", broker_url: "mqtt://127.0.0.1:1883" };
    const plain = "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n";
    const hidden = "proc /proc proc rw,nosuid,nodev,noexec,relatime,hidepid=invisible 0 0\n";
    assert.equal(checkArgumentSecrets(cam, plain).verdict, "warn");
    assert.equal(checkArgumentSecrets(cam, hidden).verdict, "ok");
    assert.equal(checkArgumentSecrets({ ...cam, camera: "rtsp://cam/1" }, plain).verdict, "ok");
  });
});
