// memory-reflect inspector: plain JS, no build step, no downloads.
// Everything is read from the LangGraph server's REST API on the same origin,
// with the pasted API key as x-api-key, so the server's auth handler decides
// what this page may see. The inspector's own routes (BASE + "api/...") only
// answer contract questions (thread key -> UUID, namespace parsing, whoami).
"use strict";

const BASE = location.pathname.replace(/[^/]*$/, ""); // ".../inspector/"
const ROOT = BASE.replace(/inspector\/$/, ""); // where the server's REST API lives
const KEY_STORE = "memory-reflect-inspector-key";
const PAGE_SIZE = 50;
const POLL_MS = Math.max(200, Number(new URLSearchParams(location.search).get("poll")) || 1000);

let meta = {
  graph_id: "memory_manager", inbox_label: "reflection_inbox", receipts_label: "reflection_receipts",
  delivery_label: "reflection_delivery", delivery_key: "state", history_label: "reflection_history",
  record_labels: ["reflection_activity", "reflection_backfill", "reflection_delivery",
                  "reflection_history", "reflection_inbox", "reflection_receipts", "reflection_use"],
};
let prefix = []; // the owner label the store adds for this key (stripped for display)
let pollTimer = null;
let generation = 0; // bumped on navigation, so a late answer for an old view is dropped

// Submissions seen in inboxes while they were pending, by server thread id. After a run
// processes them the inbox entries are gone and the state keeps only first/last times.
const seenSubmissions = new Map();

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

const $ = (sel) => document.querySelector(sel);
const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const short = (id) => (id ? String(id).slice(0, 8) : "");
const epoch = (iso) => (iso ? Date.parse(iso) / 1000 : null);
const fmtTime = (t) => (t ? new Date(t * 1000).toLocaleTimeString() : "—");
const fmtSecs = (s) => (s == null || !isFinite(s) ? "—" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);

function apiKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

async function request(url, method = "GET", body = undefined) {
  const headers = { Accept: "application/json" };
  if (apiKey()) headers["x-api-key"] = apiKey();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, `cannot reach the server (${err.message})`);
  }
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!resp.ok) {
    const detail = (data && (data.error || data.detail || data.message)) || resp.statusText;
    throw new ApiError(resp.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data;
}

const rest = (path, method, body) => request(ROOT + path, method, body);
const own = (path) => request(BASE + path);

function showBanner(err) {
  const banner = $("#banner");
  if (!err) {
    banner.hidden = true;
    return;
  }
  let text = err.message;
  if (err.status === 401) {
    text = `The server refused the request (${err.message}). It has MEMORY_API_KEYS set: paste your API key above.`;
  } else if (err.status === 0) {
    text = `Cannot reach the server: ${err.message}. Still retrying.`;
  }
  banner.textContent = text;
  banner.hidden = false;
}

// Replace the view's body; keep its form while the user is typing in it, so a poll
// never wipes a half-typed thread id or namespace.
function paint(view, form, body, bind) {
  const el = $("#view");
  const active = document.activeElement;
  const typing = active && ["INPUT", "SELECT"].includes(active.tagName) && el.contains(active);
  if (typing && el.dataset.view === view && $("#view-body")) {
    $("#view-body").innerHTML = body;
  } else {
    el.dataset.view = view;
    el.innerHTML = `${form}<div id="view-body">${body}</div>`;
    if (bind) bind();
  }
  tickCountdowns();
}

function message(text, kind = "") {
  return `<div class="message ${kind}" data-message="${esc(kind || "info")}">${esc(text)}</div>`;
}

// ---------------------------------------------------------------- pending work

function runDueAt(run) {
  // The dev server records a deferred run's created_at as its due time (see
  // sdk_client/_base.py thread_status); the request time + after_seconds is the fallback.
  const cfg = (run.kwargs && run.kwargs.config && run.kwargs.config.configurable) || {};
  if (cfg.__request_start_time_ms__ != null && cfg.__after_seconds__ != null) {
    const computed = cfg.__request_start_time_ms__ / 1000 + Number(cfg.__after_seconds__);
    return Math.max(computed, epoch(run.created_at) || 0);
  }
  return epoch(run.created_at);
}

async function inboxSubmissions(threadId) {
  const items = [];
  for (let offset = 0; ; offset += 100) {
    const page = await rest("store/items/search", "POST", {
      namespace_prefix: [meta.inbox_label, threadId], limit: 100, offset,
    });
    items.push(...page.items);
    if (page.items.length < 100) break;
  }
  const subs = items.flatMap((item) => (item.value.submissions || []).map((s) => ({ ...s, namespace: item.value.namespace })));
  subs.sort((a, b) => a.submitted_at - b.submitted_at);
  const seen = seenSubmissions.get(threadId) || new Map();
  for (const s of subs) seen.set(s.submission_id, s);
  seenSubmissions.set(threadId, seen);
  return subs;
}

// What a busy thread is doing: its pending or running run and how many submissions wait.
async function activeWork(threadId) {
  const [runs, inbox] = await Promise.all([rest(`threads/${threadId}/runs?limit=10`), inboxSubmissions(threadId)]);
  const running = runs.find((r) => r.status === "running");
  const pending = runs.find((r) => r.status === "pending");
  const run = running || pending || null;
  return {
    state: running ? "running" : pending ? "pending" : "idle",
    run,
    runs,
    dueAt: pending && !running ? runDueAt(pending) : null,
    inbox,
  };
}

function lastResult(values) {
  if (!values || !values.timing) return { text: "—", duration: null };
  const c = values.changes || { created: [], updated: [], deleted: [] };
  const t = values.timing;
  const duration = t.finished_at && t.started_at ? t.finished_at - t.started_at : null;
  const n = (values.submissions || []).length;
  return {
    text: `+${c.created.length} ~${c.updated.length} −${c.deleted.length} from ${n} submission${n === 1 ? "" : "s"}`,
    duration,
    finishedAt: t.finished_at,
  };
}

// What the run spent on the model (values.usage, recorded by the graph); "" when not recorded.
function usageText(usage) {
  if (!usage) return "";
  if (!usage.model_calls) return "no model calls";
  const n = (x) => Number(x || 0).toLocaleString("en-US");
  const calls = `${usage.model_calls} model call${usage.model_calls === 1 ? "" : "s"}`;
  return `${calls}, ${n(usage.prompt_tokens)} → ${n(usage.completion_tokens)} tokens, ${fmtSecs(usage.model_seconds)} model time`;
}

function usageSpan(usage) {
  if (!usage) return "";
  return `<span class="usage" data-model-calls="${esc(usage.model_calls)}" data-prompt-tokens="${esc(usage.prompt_tokens)}" ` +
    `data-completion-tokens="${esc(usage.completion_tokens)}" data-model-seconds="${esc(usage.model_seconds)}">${esc(usageText(usage))}</span>`;
}

function stateBadge(state, dueAt) {
  const countdown = dueAt ? `<span class="countdown" data-due-at="${dueAt}"></span>` : "";
  return `<span class="state ${esc(state)}" data-state="${esc(state)}">${esc(state)}</span>${countdown}`;
}

// ---------------------------------------------------------------- delivery (redelivery, parking)

// The server's redelivery record of a thread whose work has no run (graphs/server/redelivery.py), or null.
async function deliveryRecord(threadId) {
  const ns = [meta.delivery_label, threadId].join("."); // the server adds the key's prefix
  try {
    const item = await rest(`store/items?namespace=${encodeURIComponent(ns)}&key=${meta.delivery_key}`);
    return item ? item.value : null;
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

// Threads whose work is parked: every redelivery attempt failed (at most 100 listed).
async function parkedThreads() {
  const found = await rest("store/items/search", "POST", {
    namespace_prefix: [meta.delivery_label], filter: { parked: true }, limit: 100,
  });
  return found.items.map((i) => i.namespace[i.namespace.length - 1]);
}

function deliveryMessage(record, key) {
  if (!record) return "";
  if (record.parked) {
    return message(`Parked after ${record.attempts} attempts: ${record.last_error}. The submissions stay in the inbox; ` +
      `\`memory-reflect retry -t ${key}\` or the thread's next submission runs them again.`, "error");
  }
  const next = record.next_at ? ` next attempt at ${fmtTime(record.next_at)}` : "";
  return message(`Retrying: attempt ${record.attempts} of ${record.max_attempts} (${record.last_error});${next}.`, "warning");
}

// ---------------------------------------------------------------- Threads view

async function renderThreads(params, gen) {
  const page = Math.max(0, Number(params.get("page")) || 0);
  const status = params.get("status") || "";
  const filter = { metadata: { graph_id: meta.graph_id }, ...(status ? { status } : {}) };
  const [threads, total, parked] = await Promise.all([
    rest("threads/search", "POST", { ...filter, limit: PAGE_SIZE, offset: page * PAGE_SIZE, sort_by: "updated_at", sort_order: "desc" }),
    rest("threads/count", "POST", filter).catch(() => null),
    parkedThreads().catch(() => []),
  ]);
  // Only busy threads have a pending or running run: ask about those alone, so a page
  // costs 2 requests plus 2 per busy thread whatever the total number of threads.
  const work = await Promise.all(threads.map((t) => (t.status === "busy" ? activeWork(t.thread_id).catch(() => null) : null)));
  if (gen !== generation) return;
  const pages = total == null ? null : Math.max(1, Math.ceil(total / PAGE_SIZE));
  const rows = threads.map((t, i) => threadRow(t, work[i], parked.includes(t.thread_id))).join("");
  const link = (p) => `#/threads?page=${p}${status ? `&status=${status}` : ""}`;
  const options = ["", "busy", "idle", "error"].map((s) => `<option value="${s}" ${s === status ? "selected" : ""}>${s || "all"}</option>`).join("");
  const controls = `<div class="controls">
      <strong id="thread-total">${total == null ? threads.length : total}</strong> threads of <code>${esc(meta.graph_id)}</code>
      <span id="parked-total" data-parked="${parked.length}">${parked.length ? `· <strong>${parked.length}</strong> parked` : ""}</span>
      <label>status <select id="status-filter">${options}</select></label>
      ${page > 0 ? `<a href="${link(page - 1)}" id="prev-page">← newer</a>` : ""}
      <span id="page-info">page ${page + 1}${pages ? ` of ${pages}` : ""}</span>
      ${threads.length === PAGE_SIZE && (pages == null || page + 1 < pages) ? `<a href="${link(page + 1)}" id="next-page">older →</a>` : ""}
    </div>`;
  const body = `${threads.length === 0 ? message(page > 0 ? "No threads on this page." : "No memory-manager threads yet: submit something with the executor.") : ""}
    <table id="threads"><thead><tr>
      <th>thread</th><th>state</th><th>absorbed submissions</th><th>last result</th><th>last run took</th><th>model use</th><th>updated</th>
    </tr></thead><tbody>${rows}</tbody></table>`;
  paint(`threads-${page}-${status}`, controls, body, () => {
    $("#status-filter").onchange = (e) => {
      location.hash = `#/threads${e.target.value ? `?status=${e.target.value}` : ""}`;
    };
  });
}

function threadRow(thread, work, parked) {
  let state = thread.status === "busy" ? "running" : thread.status === "error" ? "error" : "idle";
  if (parked) state = "parked";
  let dueAt = null;
  let absorbed = "";
  if (work) {
    state = work.state === "idle" || parked ? state : work.state;
    dueAt = work.dueAt;
    absorbed = String(work.inbox.length);
  }
  const result = lastResult(thread.values);
  return `<tr data-thread-id="${esc(thread.thread_id)}">
    <td><a class="mono" href="#/thread/${esc(thread.thread_id)}">${esc(short(thread.thread_id))}…</a></td>
    <td>${stateBadge(state, dueAt)}</td>
    <td class="absorbed">${esc(absorbed)}</td>
    <td>${esc(result.text)}</td>
    <td>${esc(fmtSecs(result.duration))}</td>
    <td>${usageSpan(thread.values && thread.values.usage) || "—"}</td>
    <td>${esc(fmtTime(epoch(thread.updated_at)))}</td>
  </tr>`;
}

// ---------------------------------------------------------------- Timeline view

const historyCache = new Map(); // thread id -> {updatedAt, runs}

async function finishedRuns(threadId, updatedAt) {
  const cached = historyCache.get(threadId);
  if (cached && cached.updatedAt === updatedAt) return cached.runs;
  const history = await rest(`threads/${threadId}/history`, "POST", { limit: 200 });
  const byRun = new Map();
  for (const cp of history) {
    const v = cp.values || {};
    if (v.run_id && v.timing && v.timing.finished_at && !byRun.has(v.run_id)) byRun.set(v.run_id, v);
  }
  const runs = [...byRun.values()].slice(0, 10); // newest first
  historyCache.set(threadId, { updatedAt, runs });
  return runs;
}

async function renderTimeline(params, gen, key) {
  const form = `<form class="controls" id="thread-form">
      <label>thread <input id="thread-input" size="40" value="${esc(key)}" placeholder="thread key or UUID"></label>
      <button type="submit">Open</button></form>`;
  const bind = () => {
    $("#thread-form").onsubmit = (e) => {
      e.preventDefault();
      location.hash = `#/thread/${encodeURIComponent($("#thread-input").value)}`;
    };
  };
  if (!key) {
    paint("timeline", form, message("Type a thread key (as passed to submit(thread_id=...)) or a thread UUID, or pick one in Threads."), bind);
    return;
  }
  let threadId;
  try {
    threadId = (await own(`api/resolve?thread_id=${encodeURIComponent(key)}`)).thread_id;
  } catch (err) {
    if (gen !== generation) return;
    paint("timeline", form, message(`Bad thread id: ${err.message}`, "error"), bind);
    return;
  }
  let thread;
  try {
    thread = await rest(`threads/${threadId}`);
  } catch (err) {
    if (err.status !== 404 && err.status !== 422) throw err;
    if (gen !== generation) return;
    paint("timeline", form, message(
      `No thread ${key}${key === threadId ? "" : ` (server id ${threadId})`} on this server: nothing was submitted to it yet, ` +
      "the idle-thread sweeper deleted it, or it belongs to another API key. This page keeps looking.", "error"), bind);
    return;
  }
  const [work, runs, delivery] = await Promise.all([
    activeWork(threadId), finishedRuns(threadId, thread.updated_at), deliveryRecord(threadId),
  ]);
  if (gen !== generation) return;
  const bursts = [];
  if (work.state !== "idle" || work.inbox.length) bursts.push(activeBurst(threadId, work));
  for (const values of runs) bursts.push(finishedBurst(threadId, values, work.runs));
  paint("timeline", form, `
    <h2 id="thread-head" data-thread-id="${esc(threadId)}">Thread <code>${esc(threadId)}</code> ${stateBadge(work.state === "idle" && thread.status === "error" ? "error" : work.state, work.dueAt)}</h2>
    ${delivery ? deliveryMessage(delivery, key) : thread.status === "error" && work.state === "idle" ? message("The last run on this thread failed; its submissions stay in the inbox, and the server runs them again shortly.", "warning") : ""}
    ${bursts.length ? "" : message("This thread has no pending work and no finished run yet.")}
    <p class="legend muted"><span class="dot"></span> the submission whose run executes ·
      <span class="dot superseded"></span> superseded (its run was replaced; its messages are absorbed) ·
      <span class="dash"></span> due time · <span class="bar lag"></span> waiting for a worker ·
      <span class="bar"></span> the run</p>
    <div id="bursts">${bursts.map(renderBurst).join("")}</div>`, bind);
}

// A burst: the submissions one run processed (or will), its due time and the run.
function activeBurst(threadId, work) {
  const own = work.run && work.run.kwargs && work.run.kwargs.input ? work.run.kwargs.input.submission_id : null;
  const subs = work.inbox.map((s) => ({ id: s.submission_id, at: s.submitted_at, superseded: s.submission_id !== own }));
  return {
    status: work.state, runId: work.run ? work.run.run_id : null, subs, dueAt: work.dueAt,
    startedAt: work.state === "running" ? epoch(work.run.updated_at) : null, finishedAt: null, changes: null,
  };
}

function finishedBurst(threadId, values, runs) {
  const seen = seenSubmissions.get(threadId) || new Map();
  const t = values.timing || {};
  const ids = values.submissions || [];
  const subs = ids.map((id, i) => {
    const known = seen.get(id);
    if (known) return { id, at: known.submitted_at, superseded: id !== values.submission_id };
    // Not watched while pending: the state records only the first and last submission times.
    const first = t.first_submitted_at, last = t.last_submitted_at ?? first;
    const at = ids.length === 1 ? last : i === 0 ? first : i === ids.length - 1 ? last : first + ((last - first) * i) / (ids.length - 1);
    return { id, at, superseded: id !== values.submission_id, approx: i !== 0 && i !== ids.length - 1 };
  });
  const run = runs.find((r) => r.run_id === values.run_id);
  return {
    status: run && run.status === "error" ? "error" : "done", runId: values.run_id, subs,
    dueAt: t.due_at, startedAt: t.started_at, finishedAt: t.finished_at, changes: values.changes,
    extractor: values.extractor, usage: values.usage, texts: values.change_text || {},
  };
}

function renderBurst(b) {
  const now = Date.now() / 1000;
  const times = [...b.subs.map((s) => s.at), b.dueAt, b.startedAt, b.finishedAt].filter((x) => x != null);
  if (b.status === "running" || b.status === "pending") times.push(now);
  const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1);
  const x = (t) => 20 + ((t - t0) / (t1 - t0)) * 960;
  const ticks = b.subs.map((s) => `<g class="tick${s.superseded ? " superseded" : ""}${s.approx ? " approx" : ""}" data-submission-id="${esc(s.id)}">
      <title>${esc(s.id)} at ${esc(fmtTime(s.at))}${s.superseded ? " (superseded: absorbed by the run)" : ""}${s.approx ? " (time not recorded)" : ""}</title>
      <line x1="${x(s.at)}" x2="${x(s.at)}" y1="8" y2="30"/><circle cx="${x(s.at)}" cy="8" r="4"/></g>`).join("");
  const due = b.dueAt ? `<line class="due-line" x1="${x(b.dueAt)}" x2="${x(b.dueAt)}" y1="2" y2="56"><title>due ${esc(fmtTime(b.dueAt))}</title></line>` : "";
  let bar = "";
  if (b.startedAt || b.finishedAt || b.status === "running") {
    const start = b.startedAt ?? b.dueAt ?? now;
    const end = b.finishedAt ?? now;
    const lagFrom = b.dueAt && b.dueAt < start ? b.dueAt : start;
    bar = `<rect class="lag-bar" x="${x(lagFrom)}" y="38" width="${Math.max(0, x(start) - x(lagFrom))}" height="14"><title>waiting for a worker after the due time</title></rect>
      <rect class="run-bar" data-status="${esc(b.status)}" data-run-id="${esc(b.runId)}" x="${x(start)}" y="38" width="${Math.max(3, x(end) - x(start))}" height="14"><title>run ${esc(b.runId)}: ${esc(fmtSecs(end - start))}</title></rect>`;
  }
  const nSup = b.subs.filter((s) => s.superseded).length;
  const axis = `<line class="axis" x1="20" x2="980" y1="32" y2="32"/><text x="20" y="68">${esc(fmtTime(t0))}</text><text x="980" y="68" text-anchor="end">+${esc(fmtSecs(t1 - t0))}</text>`;
  const facts = [
    `${b.subs.length} submission${b.subs.length === 1 ? "" : "s"}, ${nSup} superseded`,
    b.dueAt ? `due ${fmtTime(b.dueAt)}` : null,
    b.startedAt && b.dueAt ? `started ${fmtSecs(Math.max(0, b.startedAt - b.dueAt))} after due` : null,
    b.startedAt && b.finishedAt ? `ran ${fmtSecs(b.finishedAt - b.startedAt)}` : null,
    b.extractor ? `${b.extractor} extractor` : null,
  ].filter(Boolean).join(" · ");
  return `<section class="burst" data-run-id="${esc(b.runId)}" data-status="${esc(b.status)}">
    <div>${stateBadge(b.status, b.status === "pending" ? b.dueAt : null)} run <code>${esc(short(b.runId))}</code> — ${esc(facts)}${b.usage ? ` · ${usageSpan(b.usage)}` : ""}</div>
    <svg viewBox="0 0 1000 70" preserveAspectRatio="none" role="img" aria-label="timeline">${axis}${ticks}${due}${bar}</svg>
    ${b.changes ? renderChanges(b.changes, b.texts || {}) : ""}
  </section>`;
}

// What a changed memory says: its text when created, "before → after" when updated, the
// text it had when deleted (values.change_text, recorded by the graph's commit step).
function changeText(kind, text) {
  if (!text) return "";
  const q = (t) => `<q>${esc(t)}</q>`;
  if (kind === "updated") {
    return `<span class="text" data-text="updated"><span class="before">${q(text.before)}</span> → <span class="after">${q(text.after)}</span></span>`;
  }
  const shown = kind === "deleted" ? text.before : text.after;
  return shown == null ? "" : `<span class="text" data-text="${kind}">${q(shown)}</span>`;
}

function renderChanges(changes, texts = {}) {
  const items = ["created", "updated", "deleted"].flatMap((kind) =>
    (changes[kind] || []).map((path) => {
      const parts = path.split("/");
      const ns = parts.slice(0, -1).join("/");
      const key = parts[parts.length - 1];
      // The key is a hash: cut it, the text beside it says what the memory is.
      const label = `${ns}/${key.length > 10 ? `${key.slice(0, 8)}…` : key}`;
      return `<li class="${kind}" data-change="${kind}" data-path="${esc(path)}">` +
        `<a href="#/memories?ns=${encodeURIComponent(ns)}" title="${esc(path)}">${esc(label)}</a> ${changeText(kind, texts[path])}</li>`;
    }));
  return items.length ? `<ul class="changes">${items.join("")}</ul>` : `<p class="muted">No memory changes.</p>`;
}

// ---------------------------------------------------------------- Memories view

const hidden = () => new Set(meta.record_labels); // records, not memories
const unprefixed = (ns) => (prefix.length && prefix.every((l, i) => ns[i] === l) ? ns.slice(prefix.length) : ns);

async function renderMemories(params, gen) {
  const nsText = params.get("ns") || "";
  const query = params.get("q") || "";
  const page = Math.max(0, Number(params.get("page")) || 0);
  const listed = await rest("store/namespaces", "POST", { limit: 500 });
  const namespaces = listed.namespaces.map(unprefixed).filter((ns) => !ns.some((l) => hidden().has(l)));
  const form = `<form class="controls" id="ns-form">
      <label>namespace <input id="ns-input" size="30" value="${esc(nsText)}" placeholder="memories/alice"></label>
      <label>search <input id="q-input" size="30" value="${esc(query)}" placeholder="semantic when the store has an index"></label>
      <button type="submit">Show</button></form>
    <div class="ns-list">${namespaces.map((ns) => `<a href="#/memories?ns=${encodeURIComponent(ns.join("/"))}">${esc(ns.join("/"))}</a>`).join("") || '<span class="muted">No memory namespaces yet.</span>'}</div>`;
  const bind = () => {
    $("#ns-form").onsubmit = (e) => {
      e.preventDefault();
      const q = $("#q-input").value;
      location.hash = `#/memories?ns=${encodeURIComponent($("#ns-input").value)}${q ? `&q=${encodeURIComponent(q)}` : ""}`;
    };
  };
  let body = "";
  if (nsText) {
    body = await memoriesBody(nsText, query, page, namespaces);
  }
  if (gen !== generation) return;
  paint("memories", form, body, bind);
}

async function memoriesBody(nsText, query, page, namespaces) {
  let ns;
  try {
    ns = (await own(`api/resolve?namespace=${encodeURIComponent(nsText)}`)).namespace;
  } catch (err) {
    return message(`Bad namespace: ${err.message}`, "error");
  }
  const found = await rest("store/items/search", "POST", {
    namespace_prefix: ns, limit: PAGE_SIZE, offset: page * PAGE_SIZE, ...(query ? { query } : {}),
  });
  const known = namespaces.some((n) => ns.every((l, i) => n[i] === l));
  if (!found.items.length) {
    return known
      ? message(query ? `No memories under ${ns.join("/")} match “${query}”.` : `No memories under ${ns.join("/")} on this page.`)
      : message(`No namespace ${ns.join("/")} on this server${prefix.length ? " for your API key" : ""}. Pick one of those listed above.`, "error");
  }
  const timelines = await memoryHistory(ns);
  const rows = found.items.map((item) => {
    const path = [...unprefixed(item.namespace), item.key].join("/");
    const history = timeline(timelines.get(path) || []);
    return `<tr class="memory" data-key="${esc(item.key)}">
      <td><code>${esc(path)}</code></td><td>${esc(memText(item.value))}${item.score != null ? ` <span class="muted">(score ${Number(item.score).toFixed(2)})</span>` : ""}
      ${history}</td>
      <td>${esc(fmtTime(epoch(item.created_at)))}</td><td>${esc(fmtTime(epoch(item.updated_at)))}</td></tr>`;
  });
  // Memories whose last change deleted them: their timeline, and the undo that brings them back.
  const shown = new Set(found.items.map((item) => [...unprefixed(item.namespace), item.key].join("/")));
  const gone = [...timelines.entries()].filter(([path, list]) => !shown.has(path) && list[list.length - 1].kind === "deleted");
  const deleted = page === 0 && !query && gone.length
    ? `<h3>Deleted</h3><table id="deleted-table"><tbody>${gone.map(([path, list]) =>
      `<tr class="deleted-memory" data-path="${esc(path)}"><td><code>${esc(path)}</code></td><td>${esc(memText(list[list.length - 1].before))}${timeline(list)}</td></tr>`).join("")}</tbody></table>`
    : "";
  const nav = `${page > 0 ? `<a href="${pageLink(nsText, query, page - 1)}">← previous</a> ` : ""}${found.items.length === PAGE_SIZE ? `<a href="${pageLink(nsText, query, page + 1)}">next →</a>` : ""}`;
  return `<table id="memory-table"><thead><tr><th>memory</th><th>content · its history</th><th>created</th><th>updated</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table><p>${nav}</p>${deleted}
    <p class="muted">Each change's id is what <code>memory-reflect undo ID -n ${esc(ns.join("/"))}</code> takes.</p>`;
}

const pageLink = (ns, q, p) => `#/memories?ns=${encodeURIComponent(ns)}${q ? `&q=${encodeURIComponent(q)}` : ""}&page=${p}`;

// A memory's readable text: langmem's content.content, a plain string, else JSON.
function memText(value) {
  if (value == null) return "";
  const content = value.content;
  if (typeof content === "string") return content;
  if (content && typeof content.content === "string") return content.content;
  return JSON.stringify(content ?? value);
}

// Every change to the namespace's memories, from the store's history (written with each
// change by the graph's commit step, and by undo): path → changes, oldest first.
async function memoryHistory(ns) {
  const found = await rest("store/items/search", "POST", {
    namespace_prefix: [meta.history_label, ...ns], limit: 500,
  });
  const byPath = new Map();
  for (const item of found.items) {
    const v = item.value || {};
    const path = [...(v.namespace || []), v.key].join("/");
    const list = byPath.get(path) || [];
    list.push({
      id: item.key, kind: v.event, runId: v.run_id, threadId: v.thread_id, at: v.at,
      before: v.before, after: v.after, text: { before: memText(v.before), after: memText(v.after) },
    });
    byPath.set(path, list);
  }
  for (const list of byPath.values()) list.sort((a, b) => a.at - b.at);
  return byPath;
}

function timeline(changes) {
  if (!changes.length) return "";
  const items = changes.map((h) => {
    const by = h.runId
      ? ` by run <code>${esc(short(h.runId))}</code>${h.threadId ? ` on <a href="#/thread/${esc(h.threadId)}">thread ${esc(short(h.threadId))}</a>` : ""}`
      : "";
    const shownAs = h.kind === "restored" ? "updated" : h.kind;
    return `<li data-change-id="${esc(h.id)}" data-event="${esc(h.kind)}">${esc(h.kind)}${by} at ${esc(fmtTime(h.at))}: ${changeText(shownAs, h.text)} <code class="change-id" title="change id">${esc(h.id)}</code></li>`;
  }).join("");
  return `<ul class="history">${items}</ul>`;
}

// ---------------------------------------------------------------- routing and polling

function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "thread") return { name: "timeline", params, key: decodeURIComponent(parts.slice(1).join("/")) };
  if (parts[0] === "memories") return { name: "memories", params };
  return { name: "threads", params };
}

async function refresh() {
  clearTimeout(pollTimer);
  const gen = generation;
  const r = route();
  for (const name of ["threads", "timeline", "memories"]) {
    $(`#nav-${name}`).classList.toggle("active", name === r.name);
  }
  try {
    if (r.name === "timeline") await renderTimeline(r.params, gen, r.key);
    else if (r.name === "memories") await renderMemories(r.params, gen);
    else await renderThreads(r.params, gen);
    showBanner(null);
    $("#last-poll").textContent = `Last update ${new Date().toLocaleTimeString()}.`;
  } catch (err) {
    showBanner(err instanceof ApiError ? err : new ApiError(-1, `the page failed: ${err.message}`));
  }
  if (gen === generation) pollTimer = setTimeout(refresh, POLL_MS);
}

function tickCountdowns() {
  const now = Date.now() / 1000;
  for (const el of document.querySelectorAll("[data-due-at]")) {
    const left = Number(el.dataset.dueAt) - now;
    el.textContent = left > 0 ? `due in ${left.toFixed(1)} s` : `due ${(-left).toFixed(1)} s ago, waiting for a worker`;
  }
}

async function checkKey() {
  try {
    const who = await own("api/whoami");
    prefix = who.prefix || [];
    $("#whoami").textContent = apiKey() ? `as ${who.identity}` : "";
    return true;
  } catch (err) {
    prefix = [];
    $("#whoami").textContent = "";
    showBanner(err);
    return false;
  }
}

async function start() {
  $("#poll-ms").textContent = POLL_MS;
  $("#api-key").value = apiKey();
  $("#key-form").onsubmit = async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("#api-key").value.trim());
    generation += 1;
    if (await checkKey()) refresh();
  };
  window.addEventListener("hashchange", () => {
    generation += 1;
    refresh();
  });
  setInterval(tickCountdowns, 100);
  try {
    meta = await own("api/meta");
  } catch (err) {
    showBanner(err);
  }
  await checkKey();
  refresh();
}

start();
