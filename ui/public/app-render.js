// The dashboard's DOM. Every value from the broker or the user is set as text (textContent, or an
// attribute through setAttribute on known names): nothing is ever parsed as HTML.

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export function age(ms) {
  if (!Number.isFinite(ms)) return "—";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export function micros(seconds) {
  if (typeof seconds !== "number") return "—";
  const us = seconds * 1e6;
  return Math.abs(us) >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

function bytes(n) {
  if (typeof n !== "number") return "—";
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

const FIELDS = [
  ["session", "Session"],
  ["batches", "Batches"],
  ["last", "Last batch"],
  ["disk", "Free disk"],
  ["source", "Time source"],
  ["offset", "Clock offset"],
  ["latency", "Camera latency"],
  ["upload", "Upload backlog"],
];

/** A node's card: built once, then updated field by field. */
export function nodeCard(node) {
  const dd = {};
  const dl = el("dl");
  for (const [key, label] of FIELDS) {
    dd[key] = el("dd", { "data-field": key }, "—");
    dl.append(el("dt", {}, label), dd[key]);
  }
  const img = el("img", { alt: `camera preview of ${node}` });
  const caption = el("figcaption");
  const none = el("span", { class: "none" }, "no preview yet");
  const bar = el("div");
  const card = el(
    "article",
    { class: "card", "data-node": node },
    el(
      "header",
      {},
      el("h3", {}, node),
      el("span", { class: "badge", "data-field": "availability" }, "?"),
      el("span", { class: "badge", "data-field": "state" }, "?"),
      el("span", { class: "badge", "data-field": "synced" }, "clock ?"),
    ),
    el("figure", { class: "preview" }, img, none, caption),
    dl,
    el("div", { class: "progress", title: "session progress" }, bar),
  );
  return { card, dd, img, caption, none, bar, badge: (f) => card.querySelector(`[data-field="${f}"]`) };
}

function setBadge(b, text, kind) {
  b.textContent = text;
  if (kind) b.setAttribute("data-kind", kind);
  else b.removeAttribute("data-kind");
}

/** Fills a card from what is known of its node (see app.js's node records). */
export function updateCard(view, n, now) {
  const s = n.state;
  view.card.setAttribute("data-availability", n.availability ?? "unknown");
  setBadge(
    view.badge("availability"),
    n.availability ?? "unknown",
    n.availability === "online" ? "ok" : "bad",
  );
  const st = s?.state ?? "unknown";
  setBadge(
    view.badge("state"),
    st,
    st === "recording" ? "rec" : st === "error" ? "bad" : st === "scheduled" ? "warn" : undefined,
  );
  const c = n.clock;
  setBadge(
    view.badge("synced"),
    c ? (c.synced ? "synced" : "unsynced") : "clock ?",
    c ? (c.synced ? "ok" : "bad") : undefined,
  );
  const elapsed =
    s?.state === "recording" && s.started_at ? Math.max(0, (now - Date.parse(s.started_at)) / 1000) : null;
  view.dd.session.textContent =
    (s?.session ?? "—") +
    (elapsed !== null ? ` · ${Math.round(elapsed)}${s.duration ? ` / ${s.duration}` : ""} s` : "") +
    (s?.state === "scheduled" && s.scheduled_at
      ? ` · at ${new Date(s.scheduled_at).toLocaleTimeString()}`
      : "");
  view.dd.batches.textContent = s ? String(s.batches) : "—";
  view.dd.last.textContent = n.lastBatch
    ? `#${n.lastBatch.seq}, ${age(now - Date.parse(n.lastBatch.end))}`
    : "—";
  view.dd.disk.textContent = typeof s?.free_mb === "number" ? bytes(s.free_mb * 1024 * 1024) : "—";
  view.dd.source.textContent = n.lastBatch?.time_source ?? "—";
  view.dd.offset.textContent = c ? micros(c.offset_s) : "—";
  view.dd.latency.textContent =
    typeof s?.latency_ms === "number" ? `${s.latency_ms} ms (${s.latency_source ?? "?"})` : "—";
  const u = s?.upload;
  view.dd.upload.textContent = u
    ? `${u.pending} files, ${bytes(u.pending_bytes)}${u.last_error ? " (failing)" : ""}`
    : "—";
  let pct = 0;
  if (elapsed !== null && s.duration) pct = Math.min(100, (elapsed / s.duration) * 100);
  view.bar.style.width = `${pct.toFixed(1)}%`;
  if (n.preview) {
    view.caption.textContent = `${n.preview.meta.width}×${n.preview.meta.height}, ${age(now - Date.parse(n.preview.meta.taken_at))}`;
    view.none.hidden = true;
  }
}

export function feedItem(at, node, parts, kind) {
  const li = el(
    "li",
    kind ? { "data-kind": kind } : {},
    el("time", {}, new Date(at).toLocaleTimeString()),
    el("span", { class: "node" }, node),
  );
  for (const p of parts) li.append(p instanceof Node ? p : el("span", {}, p));
  return li;
}

/** The table of a command's answers: one row per addressed node. */
export function resultTable(result) {
  const rows = result.rows.map((r) =>
    el(
      "tr",
      { "data-node": r.node, "data-ok": r.ok },
      el("td", {}, r.node),
      el(
        "td",
        {},
        el("span", { class: "badge", "data-kind": r.ok ? "ok" : "bad" }, r.ok ? "ok" : (r.code ?? r.outcome)),
      ),
      el(
        "td",
        {},
        r.ok
          ? r.state
            ? `${r.state.state}${r.state.session ? ` · ${r.state.session}` : ""}`
            : ""
          : (r.message ?? ""),
      ),
    ),
  );
  return el(
    "table",
    { "data-command": result.command.cmd },
    el("thead", {}, el("tr", {}, el("th", {}, "Node"), el("th", {}, "Reply"), el("th", {}, "Detail"))),
    el("tbody", {}, ...rows),
  );
}
