// The supervisor's board: reads /board/stream (server-sent events, read with fetch so that the bearer
// token goes in the Authorization header), draws one panel per campaign, and sends the supervisor's
// actions through PATCH /campaigns/{name}. No library, no download: the charts are SVG drawn here.
"use strict";

const TOKEN_KEY = "dialer.board.token";
const RETRY_MS = 2000;
const campaigns = new Map(); // name -> the panel's data, as the server sent it (timeline merged)
let token = sessionStorage.getItem(TOKEN_KEY);
let lastId = null;
let stream = null; // the AbortController of the stream being read

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const num = (x) => (x === null || x === undefined ? "—" : String(x));
const pct = (x) => (x === null || x === undefined ? "—" : (100 * x).toFixed(2) + " %");
const dec = (x, d = 2) => (x === null || x === undefined ? "—" : Number(x).toFixed(d));
const MODES = { power: "Power", predictive: "Predictive" };

function headers(extra = {}) {
  const h = { ...extra };
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

function status(text, cls) {
  const s = $("status");
  s.textContent = text;
  s.className = "status " + (cls || "");
}

function showMessage(text) {
  const m = $("message");
  m.textContent = text;
  m.hidden = !text;
}

function clearBoard() {
  campaigns.clear();
  $("panels").replaceChildren();
  $("empty").hidden = true;
}

function askToken(why) {
  if (stream) stream.abort();
  clearBoard();
  showMessage(why);
  status("no data", "down");
  $("login").hidden = false;
  $("token").value = "";
  $("token").focus();
}

// --- the stream ---------------------------------------------------------------------------------

async function connect() {
  if (stream) stream.abort();
  const ctrl = new AbortController();
  stream = ctrl;
  status(lastId === null ? "connecting…" : "reconnecting…", "down");
  let r;
  try {
    const h = headers({ Accept: "text/event-stream" });
    if (lastId !== null) h["Last-Event-ID"] = lastId;
    r = await fetch("/board/stream", { headers: h, signal: ctrl.signal, cache: "no-store" });
  } catch (err) {
    if (ctrl.signal.aborted) return;
    return retry(ctrl);
  }
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    const had = token;
    token = null;
    $("forget").hidden = true;
    askToken(had ? "The token was refused (401: missing or bad bearer token). Nothing is shown without the service's token: enter it again."
                 : "This service requires a bearer token. Enter it to open the board.");
    return;
  }
  if (!r.ok) {
    showMessage(`The board's stream answered ${r.status}; retrying.`);
    return retry(ctrl);
  }
  showMessage("");
  $("login").hidden = true;
  $("forget").hidden = !token;
  status("live", "live");
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        onBlock(block);
      }
    }
  } catch (err) {
    if (ctrl.signal.aborted) return;
  }
  retry(ctrl);
}

function retry(ctrl) {
  if (ctrl !== stream || ctrl.signal.aborted) return;
  status("connection lost: reconnecting…", "down");
  setTimeout(() => { if (ctrl === stream) connect(); }, RETRY_MS);
}

function onBlock(block) {
  let kind = "message", id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // a heartbeat
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") kind = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (!data.length) return;
  if (id !== null) lastId = id;
  const msg = JSON.parse(data.join("\n"));
  if (kind === "snapshot") {
    clearBoard();
    for (const p of msg.campaigns) campaigns.set(p.name, p);
    renderAll();
  } else if (kind === "update") {
    for (const name of msg.closed) {
      campaigns.delete(name);
      const el = panelOf(name);
      if (el) el.remove();
    }
    for (const p of msg.campaigns) {
      const had = campaigns.get(p.name);
      if (had && p.timeline.after !== null && had.timeline.day === p.timeline.day) {
        const keep = had.timeline.points.filter((x) => x.t <= p.timeline.after);
        p.timeline.points = keep.concat(p.timeline.points);
      }
      campaigns.set(p.name, p);
    }
    renderAll();
  }
}

// --- drawing ------------------------------------------------------------------------------------

function panelOf(name) {
  return [...$("panels").children].find((el) => el.dataset.campaign === name);
}

function renderAll() {
  const names = [...campaigns.keys()].sort();
  $("empty").hidden = names.length > 0;
  const box = $("panels");
  for (const name of names) {
    let el = panelOf(name);
    if (!el) {
      el = makePanel(name);
      box.appendChild(el);
    }
    render(el, campaigns.get(name));
  }
}

function makePanel(name) {
  const el = document.createElement("section");
  el.className = "panel";
  el.dataset.campaign = name;
  el.innerHTML = `<div class="data"></div>
    <div class="actions">
      <button type="button" data-act="mode"></button>
      <label>target <input type="number" step="0.001" min="0" data-act="target-value"></label>
      <button type="button" data-act="target">Set target</button>
      <button type="button" data-act="pause"></button>
      <span class="note" data-k="note"></span>
    </div>`;
  el.querySelector('[data-act="mode"]').addEventListener("click", () => {
    const p = campaigns.get(name);
    const to = p.config.mode === "power" ? "predictive" : "power";
    confirmThen(`Switch campaign ${name} from ${MODES[p.config.mode] || p.config.mode} to ${MODES[to]}?`, name,
                { mode: to }, `switched to ${MODES[to]}`);
  });
  el.querySelector('[data-act="target"]').addEventListener("click", () => {
    const p = campaigns.get(name);
    const input = el.querySelector('[data-act="target-value"]');
    const x = Number(input.value);
    if (!input.value || !(x > 0)) return note(el, "enter a target rate such as 0.035", true);
    confirmThen(`Set campaign ${name}'s target abandon rate to ${pct(x)} (limit ${pct(p.held_to.limit)})?`, name,
                { pacer: { ...p.config.pacer, target: x } }, `target set to ${pct(x)}`);
  });
  el.querySelector('[data-act="pause"]').addEventListener("click", () => {
    const p = campaigns.get(name);
    const to = !p.config.paused;
    confirmThen(to ? `Pause new dials of campaign ${name}? Calls in flight go on; no new number is dialled.`
                   : `Resume dialling for campaign ${name}?`, name, { paused: to }, to ? "new dials paused" : "dialling resumed");
  });
  return el;
}

function note(el, text, bad) {
  const n = el.querySelector('[data-k="note"]');
  n.textContent = text;
  n.className = "note" + (bad ? " err" : "");
}

function confirmThen(question, name, body, done) {
  $("confirm-text").textContent = question;
  $("confirm").hidden = false;
  const yes = $("confirm-yes"), no = $("confirm-no");
  const close = () => { $("confirm").hidden = true; yes.onclick = null; no.onclick = null; };
  no.onclick = close;
  yes.onclick = async () => {
    close();
    const el = panelOf(name);
    try {
      const r = await fetch(`/campaigns/${encodeURIComponent(name)}`, {
        method: "PATCH", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body),
      });
      if (r.status === 401) return askToken("The token was refused (401): enter it again.");
      const answer = await r.json().catch(() => ({}));
      if (el) note(el, r.ok ? done : `refused (${r.status}): ${answer.detail || r.statusText}`, !r.ok);
    } catch (err) {
      if (el) note(el, `not sent: ${err}`, true);
    }
  };
  yes.focus();
}

function tile(label, value, key) {
  return `<div class="tile"><span class="v" data-k="${key}">${esc(value)}</span><span class="l">${esc(label)}</span></div>`;
}

function render(el, p) {
  el.dataset.seq = p.seq; // the journal position shown (tests wait for it)
  const mode = p.config.mode;
  const h = p.hours;
  const a = p.agents, c = p.calls, t = p.today, env = p.envelope;
  el.classList.toggle("closed-window", h.enforced && !h.allowed);
  let windowText;
  if (!h.enforced) windowText = "Calling hours: not enforced (no preset)";
  else if (h.allowed) windowText = "Calling window open";
  else windowText = `Closed: ${h.reason}` + (h.next_opening_local ? ` — reopens ${h.next_opening_local.text}` : " — no opening ahead");
  const binding = env.intervals.reduce((best, iv) => (best === null || (iv.headroom !== null && (best.headroom === null || iv.headroom < best.headroom)) ? iv : best), null);
  const afford = env.headroom;
  const affordCls = afford === null ? "" : afford <= 0 ? " none" : afford <= 2 ? " low" : "";
  const ivRows = env.intervals.map((iv) => `<tr data-interval="${esc(iv.name)}">
      <td>${esc(iv.name)}</td>
      <td data-k="iv.abandoned">${num(iv.abandoned)}</td><td data-k="iv.established">${num(iv.established)}</td>
      <td data-k="iv.rate" class="${iv.over ? "over" : ""}">${pct(iv.rate)}</td><td data-k="iv.limit">${pct(iv.limit)}</td>
      <td data-k="iv.headroom">${iv.headroom === null ? "∞" : num(iv.headroom)}</td>
      <td data-k="iv.worst">${pct(iv.worst.rate)}</td>
      <td data-k="iv.spare">${iv.worst.spare === null ? "∞" : num(iv.worst.spare)}</td></tr>`).join("");
  const breaks = Object.entries(p.promise_breaks.counts);
  const flags = Object.entries(t.flags);
  const pacer = p.held_to.pacer;
  const params = Object.entries(pacer).map(([k, v]) => `<code>${esc(k)}=${esc(JSON.stringify(v))}</code>`).join(" ");
  const ratePos = Math.min(100, (t.abandon_rate / Math.max(t.limit * 1.5, 1e-9)) * 100);
  const limitPos = (1 / 1.5) * 100;
  el.querySelector(".data").innerHTML = `
    <div class="top">
      <h2>${esc(p.name)}</h2>
      <span class="badge ${esc(mode)}" data-k="mode">${esc(MODES[mode] || mode)}</span>
      ${p.config.paused ? '<span class="badge paused" data-k="paused">new dials paused</span>' : ""}
      ${p.promise_breaks.dialing_as_power ? '<span class="badge paused">dialing as Power (a promise broken today)</span>' : ""}
      <span class="clock" title="the campaign's clock: its last event or decision"><span data-k="clock">${p.local ? esc(p.local.text) : "no event yet"}</span></span>
    </div>
    <div class="window ${h.enforced && !h.allowed ? "shut" : "open"}" data-k="window">${esc(windowText)}</div>
    <div class="headroom">
      <span class="big${affordCls}" data-k="headroom">${afford === null ? "∞" : num(afford)}</span>
      <span>abandons the envelope can still afford now${binding ? ` (binding: ${esc(binding.name)})` : ""};
        <span data-k="exposure">${num(env.exposure)}</span> exposed if every call in flight were answered now</span>
    </div>
    <table><thead><tr><th>interval</th><th>abandoned</th><th>established</th><th>rate</th><th>limit</th>
      <th title="abandons still affordable now">can afford</th><th title="the rate if every call in flight were answered now and every exposed one abandoned">worst case</th>
      <th title="abandons left after that worst case">left then</th></tr></thead><tbody>${ivRows}</tbody></table>
    <div class="grid">
      ${tile("idle", a.idle, "agents.idle")}${tile("reserved", a.reserved, "agents.reserved")}${tile("on a call", a.talking, "agents.talking")}
      ${tile("wrap-up", a.wrapping, "agents.wrapping")}${tile("paused", a.paused, "agents.paused")}${tile("leaving", a.leaving, "agents.leaving")}
      ${tile("logged in", a.logged_in, "agents.logged_in")}
    </div>
    <div class="grid calls">
      ${tile("ringing, reserved", c.reserved, "calls.reserved")}${tile("ringing, unreserved", c.unreserved, "calls.unreserved")}
      ${tile("answered, waiting", c.waiting, "calls.waiting")}${tile("lines in use", c.lines_in_use + (c.lines ? " / " + c.lines : ""), "calls.lines")}
      ${tile("dial level", dec(c.dial_level), "calls.dial_level")}${tile("connects / agent-hour", dec(t.connects_per_agent_hour, 1), "today.cph")}
    </div>
    <div class="rate"><span>today <span data-k="today.day">${esc(t.day)}</span>: abandon rate
      <strong data-k="today.rate">${pct(t.abandon_rate)}</strong> of limit <span data-k="today.limit">${pct(t.limit)}</span></span>
      <span class="bar"><i style="width:${ratePos}%"></i><b style="left:${limitPos}%"></b></span></div>
    <div class="facts">
      ${["attempted", "answered", "connected", "transferred", "abandoned", "machine", "no_answer", "busy", "invalid"].map((k) =>
        `<span>${esc(k.replace("_", " "))} <strong data-k="today.${k}">${num(t.counts[k])}</strong></span>`).join("")}
    </div>
    <div class="facts">
      <span>numbers redialled only with an agent (4.6.3) <strong data-k="guard.numbers">${num(p.guard.numbers)}</strong></span>
      <span>promise breaks <strong data-k="breaks" class="${breaks.length ? "warn" : ""}">${breaks.length ? esc(breaks.map(([k, n]) => `${k} ${n}`).join(", ")) : "none"}</strong></span>
      <span>flagged dials <strong data-k="flags" class="${flags.length ? "warn" : ""}">${flags.length ? esc(flags.map(([k, n]) => `${k} ${n}`).join(", ")) : "none"}</strong></span>
      ${p.warnings.length ? `<span>register <strong data-k="warnings" class="warn">${esc(p.warnings.join("; "))}</strong></span>` : ""}
    </div>
    ${charts(p, el.querySelector(".data").clientWidth)}
    <details><summary>effective parameters (${esc(p.held_to.mode)}, limit ${pct(p.held_to.limit)}${p.config.preset ? ", preset " + esc(p.config.preset) : ""}, times in ${esc(p.zone)})</summary>${params}</details>`;
  const modeButton = el.querySelector('[data-act="mode"]');
  modeButton.textContent = mode === "power" ? "Switch to Predictive" : "Switch to Power";
  el.querySelector('[data-act="pause"]').textContent = p.config.paused ? "Resume dialling" : "Pause new dials";
  const target = el.querySelector('[data-act="target-value"]');
  const predictive = mode === "predictive";
  target.disabled = !predictive;
  el.querySelector('[data-act="target"]').disabled = !predictive;
  if (predictive && document.activeElement !== target && !target.value) target.value = pacer.target;
  target.max = p.held_to.limit;
}

// --- the charts: the day so far, per minute ------------------------------------------------------

const PAD_L = 38, PAD_R = 38;
let W = 600; // the chart's width in pixels: the panel's, so that the text is never scaled

function charts(p, width) {
  W = Math.max(360, Math.floor(width || 600));
  const tl = p.timeline;
  const pts = tl.points.slice();
  if (tl.now) pts.push(tl.now);
  if (!pts.length) return `<p class="facts" data-k="chart">No call yet today: the chart starts with the first event.</p>`;
  const t0 = pts[0].t;
  const t1 = Math.max(pts[pts.length - 1].t + 60, t0 + 600, p.clock || 0);
  const x = (t) => PAD_L + ((t - t0) / (t1 - t0)) * (W - PAD_L - PAD_R);
  const first = pts[0].hm.split(":").map(Number);
  const minute0 = first[0] * 60 + first[1];
  return chart1(p, pts, x, t0, t1, minute0) + chart2(pts, x, t0, t1, minute0);
}

function steps(pts, x, y, t1, value) {
  // the value of a minute holds until the next sample: a step line
  let d = "";
  pts.forEach((pt, i) => {
    const v = value(pt);
    const end = i + 1 < pts.length ? pts[i + 1].t : t1;
    if (v === null || v === undefined) return;
    d += `${d && pts[i - 1] && value(pts[i - 1]) !== null ? "L" : "M"}${x(pt.t).toFixed(1)},${y(v).toFixed(1)}H${x(end).toFixed(1)}`;
  });
  return d;
}

function area(pts, x, y, t1, value, base) {
  const line = steps(pts, x, y, t1, value);
  if (!line) return "";
  const first = pts.find((q) => value(q) !== null && value(q) !== undefined);
  return `${line}V${base}H${x(first.t).toFixed(1)}Z`;
}

function ticks(x, t0, t1, minute0, height) {
  const span = (t1 - t0) / 60;
  const every = span > 8 * 60 ? 120 : span > 3 * 60 ? 60 : span > 60 ? 30 : 10;
  let out = "";
  const firstTick = Math.ceil(minute0 / every) * every;
  for (let m = firstTick; (m - minute0) * 60 + t0 <= t1; m += every) {
    const t = t0 + (m - minute0) * 60;
    const hh = String(Math.floor(m / 60) % 24).padStart(2, "0"), mm = String(m % 60).padStart(2, "0");
    out += `<line class="axis" x1="${x(t)}" x2="${x(t)}" y1="4" y2="${height - 14}"/><text x="${x(t)}" y="${height - 3}" text-anchor="middle">${hh}:${mm}</text>`;
  }
  return out;
}

function chart1(p, pts, x, t0, t1, minute0) {
  const H = 150, top = 6, bottom = H - 16;
  const limit = p.held_to.limit;
  const maxRate = Math.max(limit * 1.4, ...pts.map((q) => q.rate * 1.1));
  const y = (v) => bottom - (v / maxRate) * (bottom - top);
  const budgets = pts.map((q) => q.headroom).filter((v) => v !== null);
  const maxBudget = Math.max(1, ...budgets);
  const yb = (v) => bottom - (Math.max(v, 0) / maxBudget) * (bottom - top);
  const budget = budgets.length ? `<path class="budget" d="${area(pts, x, yb, t1, (q) => q.headroom, bottom)}"/>` : "";
  return `<div class="legend"><span><i style="background:var(--rate)"></i>abandon rate today</span>
      <span><i style="background:var(--bad)"></i>limit ${pct(limit)}</span><span><i style="background:var(--budget)"></i>abandons still affordable (right axis)</span></div>
    <svg class="chart" data-k="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="abandon rate against the limit, and the budget left, per minute">
    ${ticks(x, t0, t1, minute0, H)}
    ${budget}
    <line class="limit" x1="${PAD_L}" x2="${W - PAD_R}" y1="${y(limit)}" y2="${y(limit)}"/>
    <path class="rate" d="${steps(pts, x, y, t1, (q) => q.rate)}"/>
    <text x="2" y="${y(limit) + 3}">${(100 * limit).toFixed(1)}%</text><text x="2" y="${bottom}">0%</text>
    <text x="${W - 2}" y="${top + 8}" text-anchor="end">${maxBudget}</text><text x="${W - 2}" y="${bottom}" text-anchor="end">0</text>
    </svg>`;
}

function chart2(pts, x, t0, t1, minute0) {
  const H = 110, top = 6, bottom = H - 16;
  const maxAgents = Math.max(1, ...pts.map((q) => q.logged_in));
  const y = (v) => bottom - (v / maxAgents) * (bottom - top);
  const levels = pts.map((q) => q.dial_level).filter((v) => v !== null);
  const maxLevel = Math.max(1, ...levels) * 1.1;
  const yl = (v) => bottom - (v / maxLevel) * (bottom - top);
  return `<div class="legend"><span><i style="background:var(--busy)"></i>agents busy</span><span><i style="background:var(--dim)"></i>logged in</span>
      <span><i style="background:var(--level)"></i>dial level (right axis)</span></div>
    <svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="agents busy and the dial level, per minute">
    ${ticks(x, t0, t1, minute0, H)}
    <path class="busy" d="${area(pts, x, y, t1, (q) => q.busy, bottom)}"/>
    <path class="agents" d="${steps(pts, x, y, t1, (q) => q.logged_in)}"/>
    <path class="level" d="${steps(pts, x, yl, t1, (q) => q.dial_level)}"/>
    <text x="2" y="${top + 8}">${maxAgents}</text><text x="2" y="${bottom}">0</text>
    <text x="${W - 2}" y="${top + 8}" text-anchor="end">${maxLevel.toFixed(1)}</text>
    </svg>`;
}

// --- start --------------------------------------------------------------------------------------

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  showMessage("");
  lastId = null;
  connect();
});
$("forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  askToken("Token forgotten. Enter it again to open the board.");
  $("forget").hidden = true;
});
let resizing = null;
window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(renderAll, 150); });
connect();
