// The chrony command protocol client (node/sync/chrony-client.ts) against real chronyd on loopback,
// with chronyc's own answers to the same questions as the ground truth; and what it says when chronyd
// refuses, answers someone else, or is not there.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { describe, it } from "node:test";
import { chronyClient } from "../../node/sync/chrony-client.js";
import { parseSources, parseTracking } from "../../node/sync/chrony-parse.js";
import { startChronyClient, startChronyServer } from "../helpers/chrony.js";
import { freePort } from "../helpers/ports.js";
import { systemClock } from "../../platform/clock.js";

const chronyc = (port: number, command: string): string =>
  execFileSync("chronyc", ["-c", "-n", "-h", "127.0.0.1", "-p", String(port), command], { encoding: "utf8" });

/** A UDP server on loopback answering each datagram with reply(request), for the refusals. */
async function fakeChronyd(reply: (req: Buffer) => Buffer | null) {
  const socket = createSocket("udp4");
  socket.on("message", (msg, from) => {
    const out = reply(msg);
    if (out) socket.send(out, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { port: socket.address().port, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

/** A reply header echoing the request, with a status and reply code, and n bytes of data. */
function replyTo(
  req: Buffer,
  o: { status?: number; reply?: number; sequence?: number; data?: number },
): Buffer {
  const b = Buffer.alloc(28 + (o.data ?? 76));
  b.writeUInt8(6, 0);
  b.writeUInt8(2, 1);
  b.writeUInt16BE(req.readUInt16BE(4), 4);
  b.writeUInt16BE(o.reply ?? 5, 6);
  b.writeUInt16BE(o.status ?? 0, 8);
  b.writeUInt32BE(o.sequence ?? req.readUInt32BE(8), 16);
  return b;
}

describe("chrony command protocol client", () => {
  it("reads what chronyc reads from a real chronyd: reference, stratum, leap, figures, sources", async () => {
    const server = await startChronyServer();
    const client = await startChronyClient(server.port);
    try {
      const read = chronyClient({
        host: "127.0.0.1",
        port: client.cmdPort,
        timeoutMs: 3000,
        clock: systemClock(),
      });
      // Until the client has selected its server (a second or two at 16 polls a second) and has enough
      // samples for a frequency estimate (chrony starts with a skew of 1e6 ppm, which it adds to the
      // root dispersion: 0.44 s was seen right after the selection).
      let mine = await read();
      const settled = (): boolean => mine.sources[0]?.state === "*" && mine.tracking.skewPpm < 1000;
      for (let i = 0; i < 100 && !settled(); i++) {
        await new Promise((r) => setTimeout(r, 200));
        mine = await read();
      }
      const t = parseTracking(chronyc(client.cmdPort, "tracking"));
      const s = parseSources(chronyc(client.cmdPort, "sources"));
      mine = await read();
      assert.equal(mine.tracking.refId, t.refId);
      assert.equal(mine.tracking.source, "127.0.0.1");
      assert.equal(mine.tracking.source, t.source);
      assert.equal(mine.tracking.stratum, 9);
      assert.equal(mine.tracking.stratum, t.stratum);
      assert.equal(mine.tracking.leap, "Normal");
      assert.equal(mine.tracking.leap, t.leap);
      // Figures move between two readings; chronyc prints them to the ns. Same magnitude, same units:
      assert.ok(
        Math.abs(mine.tracking.rootDelayS - t.rootDelayS) < 0.001,
        `${mine.tracking.rootDelayS} ${t.rootDelayS}`,
      );
      assert.ok(Math.abs(mine.tracking.offsetS - t.offsetS) < 0.001, `${mine.tracking.offsetS} ${t.offsetS}`);
      assert.ok(
        mine.tracking.rootDispersionS > 0 && mine.tracking.rootDispersionS < 0.01,
        JSON.stringify(mine.tracking),
      );
      assert.deepEqual(
        mine.sources.map(({ mode, state, name, stratum }) => ({ mode, state, name, stratum })),
        s.map(({ mode, state, name, stratum }) => ({ mode, state, name, stratum })),
      );
      assert.equal(mine.sources[0]!.reach > 0, true);
      // The server gone: the source turns unreachable in the protocol's answer as in chronyc's.
      await server.stop();
      let lost = await read();
      for (let i = 0; i < 100 && lost.sources[0]!.reach & 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
        lost = await read();
      }
      assert.equal(lost.sources[0]!.reach & 1, 0, "the last poll went unanswered");
      assert.equal(parseSources(chronyc(client.cmdPort, "sources"))[0]!.reach & 1, 0);
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it("nothing listening: says so at once, not after the timeout", async () => {
    const port = await freePort();
    const t0 = performance.now();
    await assert.rejects(
      chronyClient({ host: "127.0.0.1", port, timeoutMs: 30_000, clock: systemClock() })(),
      new RegExp(`cannot talk to chronyd at 127\\.0\\.0\\.1:${port} \\(nothing listens there`),
    );
    assert.ok(performance.now() - t0 < 10_000);
  });

  it("chronyd's refusal is given in chronyc's words; a reply to another request is not taken", async () => {
    const refusing = await fakeChronyd((req) => replyTo(req, { status: 10 }));
    const stranger = await fakeChronyd((req) => replyTo(req, { sequence: req.readUInt32BE(8) + 1 }));
    const old = await fakeChronyd((req) => {
      const b = replyTo(req, {});
      b.writeUInt8(5, 0);
      return b;
    });
    try {
      await assert.rejects(
        chronyClient({ host: "127.0.0.1", port: refusing.port, timeoutMs: 3000, clock: systemClock() })(),
        /510 No command access from this host/,
      );
      await assert.rejects(
        chronyClient({ host: "127.0.0.1", port: stranger.port, timeoutMs: 600, clock: systemClock() })(),
        /no reply in 600 ms/,
      );
      await assert.rejects(
        chronyClient({ host: "127.0.0.1", port: old.port, timeoutMs: 3000, clock: systemClock() })(),
        /protocol version 5, labx 6/,
      );
    } finally {
      await refusing.close();
      await stranger.close();
      await old.close();
    }
  });

  it("requests are padded to their reply's length, as chronyd demands", async () => {
    const lengths: number[] = [];
    const server = await fakeChronyd((req) => {
      lengths.push(req.length);
      return null;
    });
    try {
      await assert.rejects(
        chronyClient({ host: "127.0.0.1", port: server.port, timeoutMs: 300, clock: systemClock() })(),
      );
      // The tracking request, sent three times (attempt 0, 1, 2): RPY_Tracking is 28 + 76 bytes.
      assert.deepEqual(lengths, [104, 104, 104]);
    } finally {
      await server.close();
    }
  });
});
