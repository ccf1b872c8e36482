// The time code page: on every display refresh, a QR code of `labx-tc:<µs>` for the moment the frame
// is drawn (the requestAnimationFrame time), and that time for people. By default the time is the labx
// host's clock (chrony-synced on a node): the page measures its offset to the host over /api/time (the
// exchange with the shortest round trip of each round) and adds it. ?clock=browser shows this
// browser's own clock instead. docs/time.md says what the measured latency then includes.
import qrcode from "/assets/qrcode.js";
import { formatTimecode } from "/assets/timecode-format.js";

const canvas = document.getElementById("code");
const ctx = canvas.getContext("2d", { alpha: false });
const timeText = document.getElementById("time");
const infoText = document.getElementById("info");
const params = new URLSearchParams(window.location.search);
const useHost = params.get("clock") !== "browser";
// ?slots=N (1–4): N codes side by side, one redrawn per refresh in turn, so each stays still for N
// refreshes: a camera exposing longer than one refresh still sees whole codes (docs/time.md).
const SLOTS = Math.min(4, Math.max(1, Math.floor(Number(params.get("slots")) || 1)));
const QUIET = 4; // modules of white around the code (the QR standard's quiet zone)

/** This browser's wall clock in µs for a performance.now()-based time in ms. */
const wallUs = (perfMs) => (performance.timeOrigin + perfMs) * 1000;

// The host clock's offset from this browser's (µs), its uncertainty (half the round trip) and age.
const offset = { us: 0, errorUs: null, state: useHost ? "measuring" : "off" };

async function measureOffset() {
  let best = null;
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    const res = await fetch("/api/time", { cache: "no-store" });
    const t1 = performance.now();
    const { now_us: hostUs } = await res.json();
    const rttUs = (t1 - t0) * 1000;
    if (!best || rttUs < best.rttUs) best = { rttUs, us: hostUs - wallUs((t0 + t1) / 2) };
  }
  offset.us = best.us;
  offset.errorUs = best.rttUs / 2;
  offset.state = "measured";
}

async function keepOffset() {
  try {
    await measureOffset();
  } catch {
    if (offset.state !== "measured") offset.state = "unreachable"; // the browser's clock goes on
  }
  window.setTimeout(keepOffset, 30_000);
}

let qrCache = { text: "", qr: null };
function qrFor(text) {
  if (qrCache.text !== text) {
    const qr = qrcode(2, "M"); // version 2 (25 modules) holds the text at level M: the size never changes
    qr.addData(text);
    qr.make();
    qrCache = { text, qr };
  }
  return qrCache.qr;
}

const MODULES = 25 + 2 * QUIET;

function layout() {
  const dpr = window.devicePixelRatio || 1;
  const side = Math.min(window.innerWidth / SLOTS, window.innerHeight * 0.8);
  const scale = Math.max(1, Math.floor((side * dpr) / MODULES));
  canvas.width = scale * MODULES * SLOTS;
  canvas.height = scale * MODULES;
  canvas.style.width = `${canvas.width / dpr}px`;
  canvas.style.height = `${canvas.height / dpr}px`;
  return scale;
}

let scale = layout();
window.addEventListener("resize", () => {
  scale = layout();
  slot = 0;
});
document.addEventListener("keydown", (e) => {
  if (e.key === "f") void document.documentElement.requestFullscreen?.();
});
document.addEventListener("dblclick", () => void document.documentElement.requestFullscreen?.());

const pad = (n, w = 2) => String(n).padStart(w, "0");
function human(us) {
  const d = new Date(Math.floor(us / 1000));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`;
}

// The page's own measure of its refresh interval (ms), for the info line and the tests.
const frames = { last: null, intervalMs: null };
// The codes drawn lately (about 10 s), each with this browser's time of its frame.
const drawn = [];

let slot = 0;

function draw(frameMs) {
  const us = wallUs(frameMs) + (useHost ? offset.us : 0);
  const qr = qrFor(formatTimecode(us));
  const n = qr.getModuleCount();
  // Only this refresh's slot changes; the others keep their codes.
  const x0 = slot * MODULES * scale;
  slot = (slot + 1) % SLOTS;
  ctx.fillStyle = "#fff";
  ctx.fillRect(x0, 0, MODULES * scale, canvas.height);
  ctx.fillStyle = "#000";
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++)
      if (qr.isDark(r, c)) ctx.fillRect(x0 + (c + QUIET) * scale, (r + QUIET) * scale, scale, scale);
  timeText.textContent = human(us);
  if (frames.last !== null) {
    const dt = frameMs - frames.last;
    frames.intervalMs = frames.intervalMs === null ? dt : frames.intervalMs * 0.95 + dt * 0.05;
  }
  frames.last = frameMs;
  // What the page shows, for tests and curious people: the last code and this browser's time then.
  const shown = { us, text: qrCache.text, drawnAtUs: wallUs(frameMs) };
  drawn.push(shown);
  if (drawn.length > 600) drawn.splice(0, 300);
  window.labxTimecode = { ...shown, intervalMs: frames.intervalMs, offset, drawn, slots: SLOTS };
  if (Math.floor(frameMs / 500) !== Math.floor((frameMs - (frames.intervalMs ?? 0)) / 500))
    infoText.textContent = info();
  window.requestAnimationFrame(draw);
}

function info() {
  const refresh =
    (frames.intervalMs ? `${(1000 / frames.intervalMs).toFixed(1)} Hz` : "…") +
    (SLOTS > 1 ? `, ${SLOTS} codes in turn` : "");
  if (!useHost) return `clock: this browser's · refresh ${refresh}`;
  if (offset.state === "measuring") return `clock: measuring the labx host's… · refresh ${refresh}`;
  if (offset.state === "unreachable")
    return `clock: this browser's (the labx host is unreachable) · refresh ${refresh}`;
  const ms = (v) => (v / 1000).toFixed(2);
  return `clock: the labx host's (this browser ${offset.us >= 0 ? "−" : "+"}${ms(Math.abs(offset.us))} ms, ±${ms(offset.errorUs)} ms) · refresh ${refresh}`;
}

if (useHost) void keepOffset();
window.requestAnimationFrame(draw);
