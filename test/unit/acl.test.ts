import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { filterCovers, mayPublish, maySubscribe, topicMatches, type AclUser } from "../../broker/acl.js";
import { AuthFileError, loadAuthFile } from "../../broker/auth-file.js";
import { hashPassword, verifyPassword } from "../../broker/password.js";
import { tempDir } from "../helpers/node.js";

const A: AclUser = { username: "A", role: "node", groups: ["row1"] };
const ctl: AclUser = { username: "lab", role: "controller" };

describe("ACL rules (pure)", () => {
  it("a node publishes only under its own id, never commands, never as another node", () => {
    for (const leaf of ["reply", "state", "availability", "clock", "batch", "event"])
      assert.ok(mayPublish(A, `labx/A/${leaf}`, "labx"), leaf);
    for (const t of [
      "labx/B/batch",
      "labx/A/cmd",
      "labx/all/cmd",
      "labx/A/batch/x",
      "labx/fleet/clock",
      "other",
      "homeassistant/device/B/config",
      "homeassistant/status",
      "homeassistant/sensor/A/config",
    ])
      assert.ok(!mayPublish(A, t, "labx"), t);
    assert.ok(mayPublish(A, "homeassistant/device/A/config", "labx"), "its own HA device discovery");
  });

  it("a node reads its own, its groups' and all's command topics, and nothing wider", () => {
    for (const f of ["labx/A/cmd", "labx/all/cmd", "labx/row1/cmd", "homeassistant/status"])
      assert.ok(maySubscribe(A, f, "labx"), f);
    for (const f of ["labx/B/cmd", "labx/+/cmd", "labx/#", "#", "labx/A/#", "+/A/cmd", "labx/A/batch", "+/+"])
      assert.ok(!maySubscribe(A, f, "labx"), f);
  });

  it("a controller publishes commands anywhere and reads everything, but publishes nothing else", () => {
    assert.ok(mayPublish(ctl, "labx/B/cmd", "labx"));
    assert.ok(mayPublish(ctl, "labx/all/cmd", "labx"));
    assert.ok(!mayPublish(ctl, "labx/B/batch", "labx"));
    assert.ok(maySubscribe(ctl, "#", "labx"));
    assert.ok(!maySubscribe(ctl, "$SYS/#", "labx"), "'#' does not reach $-topics");
  });

  it("filterCovers(P, F) means every topic F matches, P matches too (property, 2000 cases)", () => {
    const level = fc.constantFrom("labx", "A", "B", "cmd", "+", "$SYS");
    const filter = fc
      .tuple(fc.array(level, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([ls, hash]) => [...ls, ...(hash ? ["#"] : [])].join("/"));
    const topic = fc
      .array(fc.constantFrom("labx", "A", "B", "cmd", "x", "$SYS"), { minLength: 1, maxLength: 5 })
      .map((l) => l.join("/"));
    fc.assert(
      fc.property(filter, filter, fc.array(topic, { minLength: 20, maxLength: 20 }), (p, f, topics) => {
        if (!filterCovers(p, f)) return true;
        return topics.every((t) => !topicMatches(f, t) || topicMatches(p, t));
      }),
      { numRuns: 2000, seed: 5 },
    );
  });
});

describe("passwords and the auth file", () => {
  it("salted scrypt: the same password hashes differently, verifies, and a wrong one does not", async () => {
    const [h1, h2] = [await hashPassword("s3cret"), await hashPassword("s3cret")];
    assert.notEqual(h1, h2);
    assert.ok(!h1.includes("s3cret"));
    assert.equal(await verifyPassword("s3cret", h1), true);
    assert.equal(await verifyPassword("s3creT", h1), false);
    assert.equal(await verifyPassword("s3cret", "s3cret"), false, "a plain password is not a hash");
  });

  it("refuses plain passwords, unknown roles and duplicates, naming the file and the user", async () => {
    const dir = tempDir();
    const write = (users: unknown[]) => {
      const f = path.join(dir, `auth-${Math.random()}.json`);
      writeFileSync(f, JSON.stringify({ users }));
      return f;
    };
    const hash = await hashPassword("x");
    assert.equal(
      loadAuthFile(write([{ username: "A", role: "node", password_hash: hash }])).get("A")!.role,
      "node",
    );
    assert.throws(
      () => loadAuthFile(write([{ username: "A", role: "node", password_hash: "x" }])),
      /plain passwords are refused/,
    );
    assert.throws(
      () => loadAuthFile(write([{ username: "A", role: "root", password_hash: hash }])),
      AuthFileError,
    );
    assert.throws(
      () =>
        loadAuthFile(
          write([
            { username: "A", role: "node", password_hash: hash },
            { username: "A", role: "controller", password_hash: hash },
          ]),
        ),
      /listed twice/,
    );
    for (const user of [
      { username: "fleet", role: "node", password_hash: hash },
      { username: "x", role: "node", node: "all", password_hash: hash },
      { username: "A", role: "node", groups: ["fleet"], password_hash: hash },
    ])
      assert.throws(() => loadAuthFile(write([user])), /is reserved/, JSON.stringify(user));
  });
});
