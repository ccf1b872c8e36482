import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import type { Source, Tracking } from "./chrony-parse.js";
import {
  buildRequest,
  parseNSourcesData,
  parseSourceData,
  parseTrackingData,
  REQ,
  replyData,
} from "./chrony-protocol.js";
import type { TimerHandle, Timers } from "../../platform/timers.js";
import type { Clock } from "../../platform/clock.js";

export interface ChronyReading {
  tracking: Tracking;
  sources: Source[];
}

/** One reading of chronyd: what `chronyc tracking` and `chronyc sources` would say. */
export type ReadChrony = () => Promise<ChronyReading>;

export interface ChronyClientOptions {
  /** chronyd's command address (127.0.0.1 when null: chronyd's default bindcmdaddress). */
  host: string | null;
  /** Its command port (323 when null). */
  port: number | null;
  /** For the whole reading; each request is sent again after a third of it unanswered. */
  timeoutMs: number;
  clock: Clock;
}

/**
 * Reads chronyd over its command protocol (UDP, as chronyc does without a Unix socket): one datagram
 * out and one back per question, no process spawned. A socket per reading, closed after it.
 */
export function chronyClient(o: ChronyClientOptions): ReadChrony {
  const host = o.host ?? "127.0.0.1";
  const port = o.port ?? 323;
  let sequence = Math.floor(Math.random() * 0xffffffff);
  return async () => {
    const socket = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
    const ask = (command: number, index = 0): Promise<Buffer> =>
      exchange(socket, { command, sequence: ++sequence >>> 0, index }, o.timeoutMs, o.clock);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.connect(port, host, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      const tracking = parseTrackingData(await ask(REQ.tracking));
      const n = parseNSourcesData(await ask(REQ.nSources));
      const sources: Source[] = [];
      for (let i = 0; i < n; i++) sources.push(parseSourceData(await ask(REQ.sourceData, i)));
      return { tracking, sources };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        code === "ECONNREFUSED"
          ? `cannot talk to chronyd at ${host}:${port} (nothing listens there: is chronyd running?)`
          : `chronyd at ${host}:${port}: ${(err as Error).message}`,
      );
    } finally {
      socket.close();
    }
  };
}

/** Sends one request (again, up to twice, if unanswered) and resolves with the data of its reply. */
function exchange(
  socket: Socket,
  { command, sequence, index }: { command: number; sequence: number; index: number },
  timeoutMs: number,
  timers: Timers,
): Promise<Buffer> {
  const request = buildRequest(command, sequence, index);
  return new Promise((resolve, reject) => {
    let attempt = 0;
    let timer: TimerHandle = null;
    const done = (err: Error | null, data?: Buffer): void => {
      timers.clearTimeout(timer);
      socket.off("message", onMessage);
      socket.off("error", onError);
      if (err) reject(err);
      else resolve(data!);
    };
    const onMessage = (msg: Buffer): void => {
      // A late answer to an earlier request is not this one's: wait on.
      if (msg.length >= 20 && msg.readUInt32BE(16) !== sequence) return;
      try {
        done(null, replyData(msg, command, sequence));
      } catch (err) {
        done(err as Error);
      }
    };
    const onError = (err: Error): void => done(err);
    const send = (): void => {
      if (attempt === 3) return done(new Error(`no reply in ${timeoutMs} ms`));
      request.writeUInt16BE(attempt++, 6);
      socket.send(request, (err) => err && done(err));
      timer = timers.setTimeout(send, Math.ceil(timeoutMs / 3));
    };
    socket.on("message", onMessage);
    socket.on("error", onError);
    send();
  });
}
