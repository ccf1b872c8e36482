// The dashboard page: logs in (anonymously where the broker allows it), follows /api/stream (the
// labx process relays what its MQTT connection hears, every payload already checked against its
// schema), draws the fleet, and sends commands through /api/command.
import { el, feedItem, micros, nodeCard, resultTable, updateCard } from "./app-render.js";
import { ClockPlot } from "./app-plot.js";

const $ = (id) => document.getElementById(id);
/** node → { availability, state, clock, lastBatch, preview: {meta, v} } */
const nodes = new Map();
const cards = new Map();
let plot = null;
let me = null;
let stream = null;
let previewVersion = 0;

async function api(path, body) {
  const res = await fetch(
    path,
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
}

function record(node) {
  let n = nodes.get(node);
  if (!n) {
    n = { availability: null, state: null, clock: null, lastBatch: null, preview: null };
    nodes.set(node, n);
  }
  return n;
}

function onMessage(m) {
  if (m.leaf === "fleet-clock") return;
  const n = record(m.node);
  switch (m.leaf) {
    case "availability":
      n.availability = m.payload;
      break;
    case "state":
      n.state = m.payload;
      refreshTargets();
      break;
    case "clock":
      n.clock = m.payload;
      if (m.payload) plot.add(m.node, m.payload);
      $("no-clock").hidden = plot.points > 0;
      break;
    case "batch":
      n.lastBatch = m.payload;
      addFeed(
        "batches",
        feedItem(m.at, m.node, [
          `${m.payload.session} #${m.payload.seq}`,
          `${m.payload.frames} frames`,
          `${m.payload.duration_s.toFixed(2)} s`,
        ]),
      );
      break;
    case "event": {
      const e = m.payload;
      const kind = e.level === "error" ? "bad" : e.level === "warning" ? "warn" : undefined;
      addFeed(
        "events",
        feedItem(
          Date.parse(e.at),
          m.node,
          [el("span", { class: "badge", "data-kind": kind }, e.type), e.message],
          kind,
        ),
      );
      break;
    }
    case "preview":
      n.preview = m.payload ? { meta: m.payload, v: ++previewVersion } : null;
      break;
  }
  render(m.node);
}

function addFeed(id, li) {
  const list = $(id);
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

function render(node) {
  const n = nodes.get(node);
  let view = cards.get(node);
  if (!view) {
    view = nodeCard(node);
    cards.set(node, view);
    const grid = $("nodes");
    const after = [...cards.keys()].sort().indexOf(node);
    grid.insertBefore(view.card, grid.children[after] ?? null);
    $("no-nodes").hidden = true;
    refreshTargets();
  }
  if (n.preview && view.shown !== n.preview.v) {
    view.shown = n.preview.v;
    view.img.src = `/api/preview/${encodeURIComponent(node)}?v=${n.preview.v}`;
  }
  updateCard(view, n, Date.now());
}

function refreshSummary() {
  const online = [...nodes.values()].filter((n) => n.availability === "online").length;
  const recording = [...nodes.values()].filter((n) => n.state?.state === "recording").length;
  $("summary").textContent = `${online}/${nodes.size} online · ${recording} recording`;
  const pair = plot?.maxPairwiseUs;
  $("clock-summary").textContent =
    pair === null || pair === undefined
      ? ""
      : `max pairwise offset ${micros(pair / 1e6)} (threshold ${me.sync_threshold_ms} ms)`;
}

let targetsKey = "";

/** The target list: all, every group a node reports, every node; rebuilt only when it changes. */
function refreshTargets() {
  const select = $("target");
  const groups = new Set([...nodes.values()].flatMap((n) => n.state?.groups ?? []));
  const options = [
    ["all", "all nodes"],
    ...[...groups].sort().map((g) => [g, `group ${g}`]),
    ...[...nodes.keys()].sort().map((n) => [n, n]),
  ];
  const key = JSON.stringify(options);
  if (key === targetsKey) return;
  targetsKey = key;
  const current = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
  if (options.some(([v]) => v === current)) select.value = current;
}

function connectStream() {
  stream?.close();
  stream = new EventSource("/api/stream");
  stream.onmessage = (e) => onMessage(JSON.parse(e.data));
  stream.addEventListener("ready", () => setLink("live", "ok"));
  stream.onerror = async () => {
    setLink("reconnecting…", "warn");
    // A login that expired (or a dashboard restarted) needs a new one.
    const { status } = await api("/api/me");
    if (status === 401) {
      stream.close();
      start();
    }
  };
}

function setLink(text, kind) {
  $("link").textContent = text;
  $("link").setAttribute("data-kind", kind);
}

function showApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = me.user === null;
  $("who").textContent = `${me.user ?? "anonymous"}${me.can_command ? "" : " · view only"}`;
  $("open-warning").hidden = !me.open_to_anonymous;
  applyRights();
  plot ??= new ClockPlot($("plot"), me.sync_threshold_ms);
  connectStream();
}

function applyRights() {
  $("view-only").hidden = me.can_command;
  for (const b of $("command-form").querySelectorAll("button, input, select")) b.disabled = !me.can_command;
}

function showLogin(message) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message ?? "";
  setLink("logged out", "warn");
}

async function start() {
  const current = await api("/api/me");
  if (current.status === 200) {
    me = current.data;
    return showApp();
  }
  const anonymous = await api("/api/login", {});
  if (anonymous.status === 200) {
    me = anonymous.data;
    return showApp();
  }
  showLogin(anonymous.status === 401 ? "" : anonymous.data.error);
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await api("/api/login", { username: form.get("username"), password: form.get("password") });
  if (r.status !== 200) return void ($("login-error").textContent = r.data.error ?? "login refused");
  me = r.data;
  e.target.reset();
  showApp();
});

$("logout").addEventListener("click", async () => {
  stream?.close();
  await api("/api/logout", {});
  // Another login may see other things: start from a clean page.
  window.location.reload();
});

$("command-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const cmd = e.submitter?.value ?? "status";
  const f = new FormData(e.target);
  const body = { target: f.get("target") || "all", command: { cmd } };
  if (cmd === "start") {
    if (f.get("session")) body.command.session = f.get("session");
    if (f.get("duration")) body.command.duration = Number(f.get("duration"));
    if (f.get("batch_duration")) body.command.batch_duration = Number(f.get("batch_duration"));
    if (f.get("start_in_s")) body.start_in_s = Number(f.get("start_in_s"));
  }
  const out = $("result");
  out.replaceChildren(el("p", { class: "muted" }, `${cmd} → ${body.target}: waiting for replies…`));
  for (const b of e.target.querySelectorAll("button")) b.disabled = true;
  const r = await api("/api/command", body);
  for (const b of e.target.querySelectorAll("button")) b.disabled = false;
  if (r.status !== 200) {
    out.replaceChildren(
      el(
        "p",
        { class: "error", "data-code": r.data.code },
        `${r.data.code ?? r.status}: ${r.data.error ?? "failed"}`,
      ),
    );
    if (r.status === 403) {
      me.can_command = false;
      applyRights();
    }
    return;
  }
  const at = r.data.command.at ? ` at ${new Date(r.data.command.at).toLocaleTimeString()}` : "";
  out.replaceChildren(
    el(
      "p",
      {},
      `${cmd} → ${r.data.target}${at}: ${r.data.ok ? "every node answered ok" : "not every node answered ok"}`,
    ),
    resultTable(r.data),
  );
});

// Ages, progress and the plot move on their own.
setInterval(() => {
  for (const node of nodes.keys()) render(node);
  refreshSummary();
  plot?.render();
}, 1000);
window.addEventListener("resize", () => plot?.resize());

start();
