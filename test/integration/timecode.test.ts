/// <reference lib="dom" />
// The time code page in real Chromium (Debian's, by playwright-core): what is on screen, captured from
// the compositor, decodes (ZXing, as labx verify reads it) to the time the browser drew it, by this
// browser's clock and by the labx host's; `labx timecode` serves it alone, with no broker.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { parseTimecode, TIMECODE_PREFIX } from "../../contract/timecode.js";
import { createQrReader } from "../../align/verify/qr-reader.js";
import { codeIn } from "../../align/verify/frame-codes.js";
import { startAedes } from "../helpers/aedes.js";
import { launchChromium, startDashboardFor } from "../helpers/browser.js";
import { runCli, type CliProcess } from "../helpers/node.js";
import type { UiServer } from "../../ui/ui-server.js";

interface Shown {
  us: number;
  text: string;
  drawnAtUs: number;
}

/** The browser's wall clock (µs), read in the page. */
const browserNowUs = (page: Page): Promise<number> =>
  page.evaluate(() => (performance.timeOrigin + performance.now()) * 1000);

/**
 * Screenshots of the code, each decoded: the code is one the page drew, for the frame it drew it in
 * (its browser time plus the host offset the page applied), and that frame is at most one display
 * frame older than the moment the screenshot was asked for, and not after it was taken.
 */
async function checkScreen(page: Page, hostClock: boolean): Promise<number[]> {
  const reader = await createQrReader();
  await page.waitForFunction(() => {
    const t = (
      window as unknown as { labxTimecode?: { intervalMs: number | null; offset: { state: string } } }
    ).labxTimecode;
    return t && t.intervalMs !== null && t.offset.state !== "measuring";
  });
  const lags: number[] = [];
  for (let i = 0; i < 6; i++) {
    const before = await browserNowUs(page);
    const png = await page.locator("#code").screenshot();
    const after = await browserNowUs(page);
    const texts = await reader.readImage(png);
    assert.equal(texts.length, 1, "one code on screen");
    assert.ok(texts[0]!.startsWith(TIMECODE_PREFIX), texts[0]);
    const us = parseTimecode(texts[0]!);
    assert.notEqual(us, null, `${texts[0]} is a time code`);
    const state = (await page.evaluate(
      () => (window as unknown as { labxTimecode: unknown }).labxTimecode,
    )) as {
      intervalMs: number;
      offset: { us: number; errorUs: number | null; state: string };
      drawn: Shown[];
    };
    const frame = state.drawn.find((d) => d.text === texts[0]);
    assert.ok(frame, `${texts[0]} is a code the page drew`);
    const offsetUs = hostClock ? state.offset.us : 0;
    if (hostClock) {
      assert.equal(state.offset.state, "measured");
      // Host and browser share this machine's clock: the measured offset is within its own uncertainty.
      assert.ok(Math.abs(state.offset.us) <= state.offset.errorUs! + 100, `offset ${state.offset.us} µs`);
    }
    assert.ok(Math.abs(us! - (frame.drawnAtUs + offsetUs)) <= 1, "the code is its frame's time");
    const periodUs = state.intervalMs * 1000;
    assert.ok(
      frame.drawnAtUs >= before - periodUs - 1000,
      `drawn ${(before - frame.drawnAtUs) / 1000} ms before the screenshot began`,
    );
    assert.ok(frame.drawnAtUs <= after, "drawn before the screenshot ended");
    lags.push((after - frame.drawnAtUs) / 1000);
  }
  return lags;
}

test("the time code on screen decodes to the time its frame was drawn, by the browser's clock and by the labx host's", async () => {
  const broker = await startAedes();
  let ui: UiServer | undefined;
  let browser: Browser | undefined;
  try {
    ui = await startDashboardFor({ broker_url: broker.url });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await page.goto(`${ui.url}timecode?clock=browser`);
    await checkScreen(page, false);
    assert.match((await page.locator("#info").textContent()) ?? "", /clock: this browser's/);
    await page.goto(`${ui.url}timecode`);
    await checkScreen(page, true);
    assert.match((await page.locator("#info").textContent()) ?? "", /clock: the labx host's/);
    // ?slots=3: three codes, one redrawn per refresh in turn: those of the last three refreshes.
    await page.goto(`${ui.url}timecode?slots=3`);
    await page.waitForFunction(
      () =>
        ((window as unknown as { labxTimecode?: { drawn: unknown[] } }).labxTimecode?.drawn.length ?? 0) > 10,
    );
    const reader = await createQrReader();
    const texts = await reader.readImage(await page.locator("#code").screenshot());
    const drawn = (await page.evaluate(
      () => (window as unknown as { labxTimecode: { drawn: Shown[] } }).labxTimecode.drawn,
    )) as Shown[];
    const at = texts.map((t) => drawn.findIndex((d) => d.text === t)).sort((x, y) => x - y);
    assert.equal(at.length, 3, `three codes on screen: ${JSON.stringify(texts)}`);
    assert.ok(at[0]! >= 0, "each a code the page drew");
    assert.deepEqual([at[1]! - at[0]!, at[2]! - at[1]!], [1, 1], "three consecutive refreshes");
    assert.equal(codeIn(texts), parseTimecode(drawn[at[2]!]!.text), "verify takes the latest");

    // People read it too: the time in words is the code's to the millisecond.
    const { text, human } = await page.evaluate(() => ({
      text: (window as unknown as { labxTimecode: Shown }).labxTimecode.text,
      human: document.getElementById("time")!.textContent!,
    }));
    const ms = Math.floor(parseTimecode(text)! / 1000);
    assert.equal(human, new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC"));
  } finally {
    await browser?.close();
    await ui?.stop();
    await broker.stop();
  }
});

test("labx timecode serves the page alone, without a broker, and the host's clock on /api/time", async () => {
  let proc: CliProcess | undefined;
  try {
    proc = runCli(["timecode", "--ui-port", "0", "--ui-host", "127.0.0.1", "--log-level", "warn"]);
    let url = "";
    for (let i = 0; i < 200 && !url; i++) {
      url = /time code at (http:\/\/\S+)/.exec(proc.stderr())?.[1] ?? "";
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(url.endsWith("/timecode"), `address printed: ${proc.stderr()}`);
    const base = url.replace(/timecode$/, "");
    for (const p of ["", "timecode"]) {
      const res = await fetch(base + p);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<title>labx time code<\/title>/);
    }
    const qr = await fetch(`${base}assets/qrcode.js`);
    assert.match(qr.headers.get("content-type")!, /^text\/javascript/, "a module browsers will run");
    assert.match(await qr.text(), /export default qrcode/);
    const before = Date.now() * 1000;
    const { now_us } = (await (await fetch(`${base}api/time`)).json()) as { now_us: number };
    const after = Date.now() * 1000;
    assert.ok(now_us >= before - 1000 && now_us <= after + 1000, "the host's clock");
    // No dashboard, no login, no broker behind it.
    for (const p of ["api/stream", "api/me", "assets/app.js"]) {
      const res = await fetch(base + p);
      assert.equal(res.status, 404, p);
      await res.arrayBuffer();
    }
    proc.child.kill("SIGTERM");
    assert.equal((await proc.exited).code, 0);
  } finally {
    proc?.child.kill("SIGKILL");
    await proc?.exited;
  }
});
