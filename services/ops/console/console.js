/* cpq-oms operations console.
 * A thin view over the ops API plus the order service's repair commands. It holds no
 * business logic: what is shown, and whether a repair applies, is decided by the server. */
'use strict';

const OPS = '/console/api/ops/';
const ORDER = '/console/api/order/';
const LOGIN = '/console/login';
const DASH = '—';
const enc = encodeURIComponent;
const $ = (id) => document.getElementById(id);
// Fallout statuses with nothing left to repair: this only hides buttons, the server decides.
const SETTLED_FALLOUT = new Set(['RESOLVED', 'CLOSED']);

/* ---------- DOM helpers ---------- */

// Builds elements without innerHTML, so server data can never inject markup.
const h = (tag, attrs = {}, ...children) => build(document.createElement(tag), attrs, children);
const svg = (tag, attrs = {}, ...children) => build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);

// on* keys become listeners; null/false attributes are left out.
function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...kids(children));
  return el;
}

// Flattens nested child arrays, drops empties and turns scalars into text.
function kids(children) {
  return children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : String(c)));
}

/* ---------- Formatting ---------- */

const pad = (n) => String(n).padStart(2, '0');
const fmtCount = (n) => (n == null ? DASH : Number(n).toLocaleString('en-US'));
const fmtRate = (r) => (r == null ? DASH : `${(r * 100).toFixed(1)} %`);
const fmtBool = (b) => (b == null ? DASH : b ? 'Yes' : 'No');
const fmtText = (v) => (v == null || v === '' ? DASH : String(v));
const dig = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

// Human-friendly duration: "42 s", "3 min", "2 h 5 min", "4 d 3 h".
function fmtAge(seconds) {
  if (seconds == null || !Number.isFinite(Number(seconds))) return DASH;
  const t = Math.max(0, Math.round(Number(seconds)));
  const d = Math.floor(t / 86400), hr = Math.floor(t / 3600) % 24, m = Math.floor(t / 60) % 60;
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${m} min`;
  if (t < 86400) return m ? `${hr} h ${m} min` : `${hr} h`;
  return hr ? `${d} d ${hr} h` : `${d} d`;
}

// Local "YYYY-MM-DD HH:MM:SS"; the raw RFC 3339 value stays in the tooltip.
function fmtTime(ts) {
  const d = new Date(ts);
  if (!ts || Number.isNaN(d.getTime())) return fmtText(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const secondsSince = (ts) => (Number.isNaN(Date.parse(ts)) ? null : (Date.now() - Date.parse(ts)) / 1000);
const timeEl = (ts) => (ts ? h('time', { datetime: ts, title: ts }, fmtTime(ts)) : DASH);
const idEl = (id) => (id ? h('code', { class: 'id' }, id) : DASH);
const badge = (status) => (status ? h('span', { class: 'badge', 'data-status': status }, status) : DASH);
const muted = (text) => h('p', { class: 'muted' }, text);

// A live age; refreshAges() keeps it current without re-rendering the view.
function ageEl(ts, suffix = '') {
  if (!ts) return DASH;
  return h('span', { 'data-since': ts, 'data-suffix': suffix, title: ts }, fmtAge(secondsSince(ts)) + suffix);
}

function refreshAges() {
  for (const el of document.querySelectorAll('[data-since]')) {
    el.textContent = fmtAge(secondsSince(el.dataset.since)) + el.dataset.suffix;
  }
}

// A small object as compact "key: value" pairs, skipping nulls; null when nothing is left.
function pairs(obj) {
  const entries = Object.entries(obj || {}).filter(([, v]) => v !== null && v !== undefined);
  if (!entries.length) return null;
  return h('span', { class: 'pairs' }, entries.map(([k, v]) => h('span', { class: 'pair' },
    h('span', { class: 'key' }, `${k}:`), ' ', typeof v === 'object' ? JSON.stringify(v) : String(v))));
}

// The top-level scalar fields of an answer, for result areas whose shape is open.
const scalarPairs = (obj) => pairs(Object.fromEntries(Object.entries(obj || {}).filter(([, v]) => typeof v !== 'object')));

const link = (hash, content) => h('a', { href: hash }, content);
const orderLink = (id) => (id ? link(`#/orders/${enc(id)}`, idEl(id)) : DASH);
const quoteLink = (id) => (id ? link(`#/quotes/${enc(id)}`, idEl(id)) : DASH);
const customerLink = (id) => (id ? link(`#/customers/${enc(id)}`, idEl(id)) : DASH);

/* ---------- API ---------- */

// An answer that is not 2xx, carrying its RFC 9457 problem.
class ApiError extends Error {
  constructor(status, problem) { super(problem.title || `HTTP ${status}`); this.status = status; this.problem = { status, ...problem }; }
}

// crypto.randomUUID needs a secure context; elsewhere build the v4 UUID from getRandomValues.
const newIdempotencyKey = () => (crypto.randomUUID ? crypto.randomUUID()
  : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));

// Every console call. POSTs carry the CSRF guard and an idempotency key; a 401 anywhere
// means the server-held session is gone, so the operator logs in again.
async function request(method, url, { body, idempotencyKey } = {}) {
  const headers = method === 'GET' ? {} : { 'Content-Type': 'application/json', 'X-Requested-By': 'ops-console',
    'Idempotency-Key': idempotencyKey || newIdempotencyKey() };
  headers.Accept = 'application/json, application/problem+json';
  let res;
  try {
    res = await fetch(url, { method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: e.message });
  }
  if (res.status === 401) {
    window.location.assign(LOGIN);
    throw new ApiError(401, { title: 'Session expired' });
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (res.ok) return data;
  throw new ApiError(res.status, data && typeof data === 'object' ? data
    : { title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) });
}

const ops = (path) => request('GET', OPS + path);

// Everything an RFC 9457 problem carries; errors are never swallowed.
function problemView(err) {
  const p = (err && err.problem) || { title: 'Unexpected error', detail: String((err && err.message) || err) };
  const fieldErrors = Array.isArray(p.errors) ? p.errors : [];
  return h('div', { class: 'problem', role: 'alert' },
    h('p', {}, h('strong', {}, p.title || 'Request failed'), p.code ? [' ', h('code', {}, p.code)] : null),
    p.detail ? h('p', {}, p.detail) : null,
    h('p', { class: 'muted' }, p.status ? `HTTP ${p.status}` : null,
      p.correlationId ? [' · Correlation ID ', h('code', {}, p.correlationId)] : null),
    fieldErrors.length ? h('ul', {}, fieldErrors.map((e) => h('li', {}, h('code', {}, e.field || DASH), ' ', e.message || ''))) : null);
}

// Header-level failures (session, logout); a 401 has already left the page.
function reportError(err) {
  if (err.status === 401) return;
  $('global-problem').replaceChildren(problemView(err),
    h('button', { type: 'button', onclick: () => $('global-problem').replaceChildren() }, 'Dismiss'));
}

/* ---------- Tables and charts ---------- */

// Column shorthands: a computed cell, or a plain text field of the row.
const col = (label, cell, cls) => ({ label, cell, cls });
const txt = (label, field) => col(label, (r) => fmtText(r[field]));
const failureCol = col('Failure', (f) => [h('code', {}, fmtText(f.failureCode)), ' ', f.message || '']);

// A data table: column headers, one row header per row, an empty-state row.
function dataTable({ id, caption, columns, rows, rowAttrs, rowHeader = 0, empty = 'Nothing to show.' }) {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.cls }, c.label)));
  const body = rows.length
    ? rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map((c, i) => (i === rowHeader
      ? h('th', { scope: 'row', class: c.cls }, c.cell(r)) : h('td', { class: c.cls }, c.cell(r))))))
    : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty));
  return h('div', { class: 'table-wrap' }, h('table', { id },
    caption ? h('caption', {}, caption) : null, h('thead', {}, head), h('tbody', {}, body)));
}

// Grouped bar chart as inline SVG; each bar's <title> gives its exact number.
function barChart({ label, categories, series }) {
  const W = 720, H = 220, L = 40, R = 8, T = 10, B = 26, plotW = W - L - R, plotH = H - T - B;
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => Number(v) || 0)));
  const y = (v) => T + plotH - (v / max) * plotH;
  const groupW = plotW / Math.max(1, categories.length), barW = (groupW * 0.8) / series.length;
  const labelEvery = Math.ceil(categories.length / 12);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label });
  for (const tick of max >= 2 ? [0, Math.round(max / 2), max] : [0, max]) {
    chart.append(svg('line', { x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: 'grid' }),
      svg('text', { x: L - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'axis' }, tick));
  }
  categories.forEach((cat, i) => {
    series.forEach((s, j) => {
      const v = Number(s.values[i]) || 0;
      chart.append(svg('rect', { x: L + i * groupW + groupW * 0.1 + j * barW, y: y(v), width: Math.max(barW - 1, 1),
        height: T + plotH - y(v), class: `bar s${j}` }, svg('title', {}, `${cat} · ${s.name}: ${v}`)));
    });
    if (i % labelEvery === 0) {
      chart.append(svg('text', { x: L + (i + 0.5) * groupW, y: H - 8, 'text-anchor': 'middle', class: 'axis' }, cat));
    }
  });
  const legend = h('ul', { class: 'legend' }, series.map((s, j) =>
    h('li', {}, h('span', { class: `swatch s${j}`, 'aria-hidden': 'true' }), s.name)));
  return h('figure', { class: 'chart-figure' }, chart, series.length > 1 ? legend : null);
}

/* ---------- Routing and refresh ---------- */

const app = { token: 0, timer: null, refresh: null };

const VIEWS = {
  dashboard: { nav: 'dashboard', title: () => 'Dashboard', every: 10000, mount: mountDashboard },
  stuck: { nav: 'stuck', title: () => 'Stuck orders', every: 5000, mount: mountStuck },
  fallout: { nav: 'fallout', title: () => 'Fallout queue', every: 0, mount: mountFallout },
  approvals: { nav: 'approvals', title: () => 'Approval aging', every: 30000, mount: mountApprovals },
  orders: { needsId: true, title: (id) => `Order ${id}`, every: 2000, mount: mountOrder },
  quotes: { needsId: true, title: (id) => `Quote ${id}`, every: 10000, mount: mountQuote },
  customers: { needsId: true, title: (id) => `Customer ${id}`, every: 0, mount: mountCustomer },
  search: { title: () => 'Search', every: 0, mount: mountSearch },
};

// "#/orders/<id>?x=y" → { name: 'orders', id, query }.
function parseHash() {
  const [path, qs = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name = '', ...rest] = path.split('/');
  return { name, id: rest.length ? decodeURIComponent(rest.join('/')) : '', query: new URLSearchParams(qs) };
}

// hashchange does not fire for the current hash, so re-route by hand then.
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// Mounts the view named by the hash; the token lets late answers of a left view be dropped.
function route() {
  clearTimeout(app.timer);
  const { name, id, query } = parseHash();
  const found = VIEWS[name];
  const view = found && (id || !found.needsId) ? found : VIEWS.dashboard;
  const token = ++app.token;
  const ctx = { id, query, last: {}, alive: () => token === app.token };
  for (const btn of document.querySelectorAll('.sidebar button')) {
    btn.setAttribute('aria-current', btn.id === `nav-${view.nav}` ? 'page' : 'false');
  }
  document.title = `${view.title(id)} · cpq-oms operations`;
  const status = h('div', { class: 'view-status' }), body = h('div', { class: 'view-body' });
  $('view').replaceChildren(h('div', { class: 'view-head' }, h('h1', {}, view.title(id)),
    h('button', { type: 'button', onclick: () => app.refresh && app.refresh() }, 'Refresh'), status), body);
  startRefresh(view.mount(body, ctx), view.every, ctx, status);
}

// Runs a view's loader now and every `every` ms, never two loads at once.
function startRefresh(load, every, ctx, status) {
  let running = false;
  const run = async () => {
    if (running || !ctx.alive()) return;
    running = true;
    clearTimeout(app.timer);
    try {
      await load();
      if (ctx.alive()) status.replaceChildren(h('span', { class: 'muted' }, `Updated ${fmtTime(new Date().toISOString())}`));
    } catch (e) {
      if (ctx.alive()) status.replaceChildren(problemView(e));
    } finally {
      running = false;
      if (every && ctx.alive()) app.timer = setTimeout(run, every);
    }
  };
  app.refresh = run;
  run();
}

// Repaints a region only when its answer changed, so refreshes keep focus and selection.
function paint(ctx, region, key, data, build) {
  const json = JSON.stringify(data === undefined ? null : data);
  if (!ctx.alive() || ctx.last[key] === json) return false;
  ctx.last[key] = json;
  region.replaceChildren(...kids([build()]));
  return true;
}

// Rethrows the first failure of Promise.allSettled, once the successes are painted.
function throwFirstFailure(results) {
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

const panel = (title, ...content) => h('section', { class: 'panel' }, h('h2', {}, title), content);

/* ---------- Dashboard ---------- */

// The tiles are declared in index.html's template; data-format says how to show a value.
const FORMATS = { count: fmtCount, rate: fmtRate, age: fmtAge };

function mountDashboard(body, ctx) {
  body.append($('dashboard-template').content.cloneNode(true));
  const chart = $('hourly-chart'), lag = $('projection-lag');
  return async () => {
    const results = await Promise.allSettled([ops('business-metrics'), ops('projections/status')]);
    const [metrics, projection] = results.map((r) => r.value);
    if (metrics && ctx.alive()) fillTiles(body, metrics);
    if (metrics) paint(ctx, chart, 'hourly', metrics.hourly, () => hourlyChart(metrics.hourly || []));
    if (projection) paint(ctx, lag, 'lag', projection, () => lagPanel(projection));
    throwFirstFailure(results);
  };
}

// data-metric is the dotted path of the tile's value in the answer.
function fillTiles(root, data) {
  for (const tile of root.querySelectorAll('[data-metric]')) {
    tile.querySelector('dd').textContent = FORMATS[tile.dataset.format || 'count'](dig(data, tile.dataset.metric));
  }
}

function hourlyChart(hourly) {
  const series = (name, field) => ({ name, values: hourly.map((r) => r[field]) });
  const hourLabel = (ts) => (Number.isNaN(Date.parse(ts)) ? String(ts) : `${pad(new Date(ts).getHours())}:00`);
  return [h('h2', {}, 'Last 24 hours'), barChart({
    label: 'Quotes created, quotes accepted and orders created per hour over the last 24 hours',
    categories: hourly.map((r) => hourLabel(r.hour)),
    series: [series('Quotes created', 'quotesCreated'), series('Quotes accepted', 'quotesAccepted'),
      series('Orders created', 'ordersCreated')],
  })];
}

function lagPanel(p) {
  return [h('h2', {}, 'Projection lag'), h('p', {}, 'Generation ', h('strong', {}, fmtText(p.generation))),
    dataTable({ id: 'lag-table', rows: p.topics || [], empty: 'No topics.', columns: [txt('Topic', 'topic'),
      col('Lag (messages)', (t) => fmtCount(t.lagMessages), 'num'), col('Last event', (t) => ageEl(t.lastEventAt, ' ago'))] }),
    h('h3', {}, 'Rebuild'), p.rebuild ? pairs(p.rebuild) : muted('No rebuild recorded.')];
}

/* ---------- Stuck orders ---------- */

function mountStuck(body, ctx) {
  return async () => {
    const items = (await ops('stuck-orders')).items || [];
    paint(ctx, body, 'stuck', items, () => dataTable({
      id: 'stuck-table', caption: `${items.length} order(s) without progress beyond their threshold`,
      rows: items, empty: 'No stuck orders.', rowAttrs: (o) => ({ 'data-order-id': o.orderId }),
      columns: [col('Order', (o) => idEl(o.orderId)), col('Customer', (o) => customerLink(o.customerId)),
        col('Quote', (o) => quoteLink(o.quoteId)), col('Status', (o) => badge(o.status)),
        col('In status for', (o) => ageEl(o.statusSince)), col('Last progress', (o) => ageEl(o.lastProgressAt, ' ago')),
        col('Threshold', (o) => fmtAge(o.thresholdSeconds)),
        col('Action', (o) => h('button', { type: 'button', class: 'open-order',
          onclick: () => go(`#/orders/${enc(o.orderId)}`) }, 'Open'))],
    }));
  };
}

/* ---------- Fallout queue ---------- */

const FALLOUT_FILTERS = [['status', 'Status'], ['category', 'Category'], ['ownerTeam', 'Owner team']];

// The non-empty filters, used both for the shareable hash and the ops query.
const falloutParams = (source) => new URLSearchParams(FALLOUT_FILTERS
  .map(([name]) => [name, String(source.get(name) || '').trim()]).filter(([, v]) => v));

const withQuery = (base, params) => (String(params) ? `${base}?${params}` : base);

function mountFallout(body, ctx) {
  const selected = new Set();
  const params = falloutParams(ctx.query);
  const groups = h('div', {}), items = h('div', {});
  const bulk = h('button', { type: 'button', id: 'bulk-retry', onclick: () => bulkRetry([...selected]) });
  const syncBulk = () => { bulk.disabled = !selected.size; bulk.textContent = `Retry selected (${selected.size})`; };
  syncBulk();
  body.append(falloutFilterForm(ctx.query), panel('Groups', groups),
    panel('Records', h('div', { class: 'toolbar' }, bulk), items));
  return async () => {
    const data = await ops(withQuery('fallout-queue', params));
    const rows = data.items || [];
    paint(ctx, groups, 'groups', data.groups, () => groupsTable(data.groups || []));
    if (paint(ctx, items, 'items', rows, () => falloutTable(rows, selected, syncBulk))) {
      // Forget selections that are no longer listed.
      const listed = new Set(rows.map((f) => f.falloutId));
      for (const id of [...selected]) if (!listed.has(id)) selected.delete(id);
      syncBulk();
    }
  };
}

function falloutFilterForm(query) {
  const fields = FALLOUT_FILTERS.map(([name, label]) => h('div', { class: 'field' },
    h('label', { for: `filter-${name}` }, label),
    h('input', { id: `filter-${name}`, name, value: query.get(name) || '', autocomplete: 'off' })));
  const apply = (e) => { e.preventDefault(); go(withQuery('#/fallout', falloutParams(new FormData(e.target)))); };
  return h('form', { class: 'filters', 'aria-label': 'Fallout filters', onsubmit: apply }, fields,
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    h('button', { type: 'button', onclick: () => go('#/fallout') }, 'Clear'));
}

function groupsTable(groups) {
  return dataTable({ id: 'fallout-groups', rows: groups, empty: 'No fallout groups.', columns: [
    txt('Category', 'category'), txt('Owner team', 'ownerTeam'), col('Count', (g) => fmtCount(g.count), 'num'),
    col('Oldest', (g) => fmtAge(g.oldestAgeSeconds))] });
}

function falloutTable(rows, selected, onChange) {
  const boxes = [];
  const toggle = (box) => (box.checked ? selected.add(box.dataset.falloutId) : selected.delete(box.dataset.falloutId));
  const all = h('input', { type: 'checkbox', 'aria-label': 'Select all listed fallouts',
    onchange: (e) => { for (const b of boxes) { b.checked = e.target.checked; toggle(b); } onChange(); } });
  const checkbox = (f) => {
    const box = h('input', { type: 'checkbox', class: 'select-fallout', 'data-fallout-id': f.falloutId,
      'aria-label': `Select fallout ${f.falloutId}`, checked: selected.has(f.falloutId),
      onchange: (e) => { toggle(e.target); onChange(); } });
    boxes.push(box);
    return box;
  };
  return dataTable({ id: 'fallout-table', rows, rowHeader: 1, empty: 'No fallouts match.',
    rowAttrs: (f) => ({ 'data-fallout-id': f.falloutId }), columns: [
      col(all, checkbox), col('Fallout', (f) => idEl(f.falloutId)), col('Order', (f) => orderLink(f.orderId)),
      txt('Category', 'category'), txt('Severity', 'severity'), txt('Team', 'ownerTeam'),
      col('Status', (f) => badge(f.status)), failureCol, col('Retryable', (f) => fmtBool(f.retryable)),
      col('Age', (f) => fmtAge(f.ageSeconds)), col('Actions', falloutButtons)] });
}

function falloutButtons(f) {
  if (SETTLED_FALLOUT.has(f.status)) return DASH;
  const button = (cls, action, label) => h('button', { type: 'button', class: cls, 'data-fallout-id': f.falloutId,
    onclick: () => falloutAction(action, f.falloutId) }, label);
  return h('span', { class: 'actions' }, button('retry-fallout', 'RETRY', 'Retry'), button('skip-fallout', 'SKIP', 'Skip'));
}

/* ---------- Approval aging ---------- */

function mountApprovals(body, ctx) {
  return async () => {
    const data = await ops('approval-aging');
    const buckets = data.buckets || [];
    paint(ctx, body, 'approvals', data, () => [
      panel('Age buckets', barChart({ label: 'Approval requests per age bucket', categories: buckets.map((b) => b.label),
        series: [{ name: 'Requests', values: buckets.map((b) => b.count) }] })),
      panel('Requests', dataTable({ id: 'approval-table', rows: data.items || [], empty: 'No approval requests.',
        columns: [col('Request', (r) => idEl(r.requestId)), col('Quote', (r) => quoteLink(r.quoteId)),
          col('Status', (r) => badge(r.status)), col('Requested', (r) => timeEl(r.requestedAt)),
          col('Age', (r) => fmtAge(r.ageSeconds))] })),
    ]);
  };
}

/* ---------- Timelines ---------- */

// A timeline list with "Load more". Refreshes re-read the first page only until the
// operator pages further, so history already loaded is never thrown away.
function timelineSection(listId, path, ctx) {
  const list = h('ol', { id: listId, class: 'timeline' }), note = h('div', {});
  const more = h('button', { type: 'button', class: 'load-more', hidden: true }, 'Load more');
  let cursor = null, paged = false;
  const setCursor = (c) => { cursor = c || null; more.hidden = !cursor; };
  more.addEventListener('click', async () => {
    more.disabled = true;
    note.replaceChildren();
    try {
      const page = await ops(`${path}?cursor=${enc(cursor)}`);
      paged = true;
      list.append(...(page.entries || []).map(timelineEntry));
      setCursor(page.nextCursor);
    } catch (e) { note.replaceChildren(problemView(e)); }
    more.disabled = false;
  });
  const refresh = async () => {
    if (paged) return;
    const page = await ops(path);
    const entries = page.entries || [];
    const build = () => (entries.length ? entries.map(timelineEntry) : h('li', { class: 'empty' }, 'No events yet.'));
    if (paint(ctx, list, listId, page, build)) setCursor(page.nextCursor);
  };
  return { el: panel('Timeline', list, note, more), refresh };
}

function timelineEntry(e) {
  const meta = [e.actorId && `actor ${e.actorId}`, e.correlationId && `correlation ${e.correlationId}`].filter(Boolean);
  return h('li', { class: 'event', 'data-kind': e.kind, 'data-event-id': e.eventId },
    h('div', {}, timeEl(e.occurredAt), ' ', h('span', { class: 'kind', 'data-kind': e.kind }, e.kind), ' ',
      h('strong', {}, e.eventType), e.toStatus ? [' → ', badge(e.toStatus)] : null),
    pairs(e.summary), meta.length ? h('div', { class: 'muted' }, meta.join(' · ')) : null);
}

/* ---------- Order, quote, customer ---------- */

function mountOrder(body, ctx) {
  const detail = h('div', { id: 'order-detail', 'data-order-id': ctx.id }, muted('Loading…'));
  const timeline = timelineSection('order-timeline', `timelines/orders/${enc(ctx.id)}`, ctx);
  body.append(detail, timeline.el);
  return async () => {
    const results = await Promise.allSettled([request('GET', `${ORDER}orders/${enc(ctx.id)}`), timeline.refresh()]);
    const order = results[0].value;
    if (order) paint(ctx, detail, 'order', order, () => orderDetail(ctx.id, order));
    else if (!('order' in ctx.last)) detail.replaceChildren(muted('The order could not be loaded.'));
    throwFirstFailure(results);
  };
}

// Retry is offered on failed tasks the server marked retryable; the server still decides.
function taskButton(orderId, t) {
  if (!/^FAILED/.test(t.status || '') || !(t.failure && t.failure.retryable)) return DASH;
  return h('button', { type: 'button', class: 'retry-task', 'data-task-id': t.taskId,
    onclick: () => retryTask(orderId, t.taskId) }, 'Retry');
}

function orderDetail(id, o) {
  const fact = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value));
  return [
    h('div', { class: 'summary' },
      h('dl', { class: 'facts' },
        fact('Status', h('span', { id: 'order-status', class: 'badge', 'data-status': o.status }, o.status)),
        fact('Customer', customerLink(o.customerId)), fact('Quote', quoteLink(o.quote && o.quote.quoteId)),
        fact('Version', fmtText(o.version)), o.failure ? fact('Failure', pairs(o.failure) || DASH) : null),
      h('button', { type: 'button', id: 'cancel-order', class: 'danger', onclick: () => cancelOrder(id) }, 'Cancel…')),
    panel('Tasks', dataTable({ id: 'task-table', rows: o.tasks || [], empty: 'No tasks.',
      rowAttrs: (t) => ({ 'data-task-id': t.taskId }), columns: [
        col('Task', (t) => idEl(t.taskId)), txt('Type', 'taskType'), txt('Operation', 'operation'),
        col('Status', (t) => badge(t.status)), col('Failure', (t) => pairs(t.failure) || DASH),
        col('Action', (t) => taskButton(id, t))] })),
    panel('Fallouts', dataTable({ id: 'order-fallouts', rows: o.fallouts || [], empty: 'No fallouts.',
      rowAttrs: (f) => ({ 'data-fallout-id': f.falloutId }), columns: [
        col('Fallout', (f) => idEl(f.falloutId)), txt('Category', 'category'), txt('Severity', 'severity'),
        col('Status', (f) => badge(f.status)), failureCol, col('Retryable', (f) => fmtBool(f.retryable)),
        txt('Team', 'ownerTeam'), col('Raised', (f) => ageEl(f.createdAt, ' ago')), col('Task', (f) => idEl(f.taskId)),
        col('Actions', falloutButtons)] })),
  ];
}

function mountQuote(body, ctx) {
  const timeline = timelineSection('quote-timeline', `timelines/quotes/${enc(ctx.id)}`, ctx);
  body.append(timeline.el);
  return timeline.refresh;
}

function mountCustomer(body, ctx) {
  return async () => {
    const c = await ops(`customers/${enc(ctx.id)}`);
    paint(ctx, body, 'customer', c, () => [
      panel('Quotes', dataTable({ id: 'customer-quotes', rows: c.quotes || [], empty: 'No quotes.', columns: [
        col('Quote', (q) => quoteLink(q.quoteId)), col('Status', (q) => badge(q.status)),
        col('Created', (q) => timeEl(q.createdAt)), col('Order', (q) => orderLink(q.orderId))] })),
      panel('Orders', dataTable({ id: 'customer-orders', rows: c.orders || [], empty: 'No orders.', columns: [
        col('Order', (o) => orderLink(o.orderId)), col('Status', (o) => badge(o.status)),
        col('Quote', (o) => quoteLink(o.quoteId)), col('Created', (o) => timeEl(o.createdAt)),
        col('Completed', (o) => timeEl(o.completedAt))] })),
      panel('Assets', dataTable({ id: 'customer-assets', rows: c.assets || [], empty: 'No assets.', columns: [
        col('Product instance', (a) => idEl(a.productInstanceId)), col('Order', (a) => orderLink(a.orderId)),
        col('Offering', (a) => idEl(a.offeringId)), col('Status', (a) => badge(a.status))] })),
    ]);
  };
}

/* ---------- Search ---------- */

// Where a result leads; an external reference opens the most specific object it names.
function resultHash(r) {
  const ext = r.kind === 'EXTERNAL_REFERENCE';
  if (r.kind === 'ORDER' || (ext && r.orderId)) return `#/orders/${enc(r.orderId || r.id)}`;
  if (r.kind === 'QUOTE' || (ext && r.quoteId)) return `#/quotes/${enc(r.quoteId || r.id)}`;
  if (r.kind === 'CUSTOMER' || (ext && r.customerId)) return `#/customers/${enc(r.customerId || r.id)}`;
  return null;
}

function mountSearch(body, ctx) {
  const q = (ctx.query.get('q') || '').trim();
  $('search-input').value = q;
  return async () => {
    if (!q) return void body.replaceChildren(muted('Type an id or external reference in the search box.'));
    const rows = (await ops(`search?q=${enc(q)}`)).results || [];
    const open = (r) => (resultHash(r)
      ? h('button', { type: 'button', class: 'open-result', onclick: () => go(resultHash(r)) }, 'Open') : DASH);
    paint(ctx, body, 'search', rows, () => dataTable({ id: 'search-results', caption: `Results for “${q}”`,
      rows, rowHeader: 1, empty: 'No match.', columns: [txt('Kind', 'kind'), col('Id', (r) => idEl(r.id)),
        col('Order', (r) => orderLink(r.orderId)), col('Quote', (r) => quoteLink(r.quoteId)),
        col('Customer', (r) => customerLink(r.customerId)), col('Status', (r) => badge(r.status)), col('Action', open)] }));
  };
}

/* ---------- Repair dialog ---------- */

// One shared dialog; `key` and `sent` keep one Idempotency-Key per dialog and payload, so a
// second click on the same request replays it instead of repeating it.
const repair = { spec: null, key: null, sent: null, busy: false, closeTimer: null };
const evidenceOf = (note) => (note ? { note } : {});

// spec: { title, subject, submitLabel, evidence: 'optional'|'required'|'hidden',
//         path, body({reason, note}), preview?(), describe?(answer), keepOpen?(answer) }
function openRepair(spec) {
  clearTimeout(repair.closeTimer);
  Object.assign(repair, { spec, key: null, sent: null, busy: false });
  $('repair-form').reset();
  $('repair-title').textContent = spec.title;
  $('repair-subject').textContent = spec.subject || '';
  $('repair-result').replaceChildren();
  const evidence = $('repair-evidence');
  evidence.required = spec.evidence === 'required';
  $('repair-evidence-field').hidden = spec.evidence === 'hidden';
  $('repair-evidence-hint').textContent = evidence.required ? '(required)' : '(optional)';
  $('repair-submit').textContent = spec.submitLabel;
  $('repair-submit').disabled = Boolean(spec.preview);
  $('repair-preview').hidden = !spec.preview;
  $('repair-preview').replaceChildren();
  if (!$('repair-dialog').open) $('repair-dialog').showModal();
  $('repair-reason').focus();
  if (spec.preview) loadPreview(spec);
}

// Submitting stays disabled until the server's impact preview is on screen.
async function loadPreview(spec) {
  $('repair-preview').replaceChildren(muted('Loading impact preview…'));
  try {
    const node = await spec.preview();
    if (repair.spec !== spec) return;
    $('repair-preview').replaceChildren(node);
    $('repair-submit').disabled = false;
  } catch (e) {
    if (repair.spec !== spec) return;
    $('repair-preview').replaceChildren(h('p', {}, 'No impact preview: the command cannot be confirmed.'));
    $('repair-result').replaceChildren(problemView(e));
  }
}

async function submitRepair(event) {
  event.preventDefault();
  const { spec } = repair;
  if (!spec || repair.busy) return;
  const reasonEl = $('repair-reason'), evidenceEl = $('repair-evidence');
  const reason = reasonEl.value.trim(), note = evidenceEl.value.trim();
  // `required` alone accepts blanks; the message is reported, then cleared so it never sticks.
  reasonEl.setCustomValidity(reason ? '' : 'Enter a reason.');
  evidenceEl.setCustomValidity(evidenceEl.required && !note ? 'Evidence is required for this action.' : '');
  const valid = event.target.reportValidity();
  for (const el of [reasonEl, evidenceEl]) el.setCustomValidity('');
  if (!valid) return;
  const body = spec.body({ reason, note });
  if (repair.sent !== JSON.stringify(body)) Object.assign(repair, { key: newIdempotencyKey(), sent: JSON.stringify(body) });
  const submit = $('repair-submit'), result = $('repair-result');
  repair.busy = true;
  submit.disabled = true;
  result.replaceChildren(muted('Sending…'));
  try {
    const answer = (await request('POST', ORDER + spec.path, { body, idempotencyKey: repair.key })) || {};
    if (repair.spec !== spec) return;
    result.replaceChildren(h('p', { class: 'done' }, 'Done'), (spec.describe || scalarPairs)(answer));
    if (!(spec.keepOpen && spec.keepOpen(answer))) repair.closeTimer = setTimeout(closeRepair, 1000);
    if (app.refresh) app.refresh();
  } catch (e) {
    if (repair.spec !== spec) return;
    result.replaceChildren(problemView(e));
    submit.disabled = false;
  } finally {
    if (repair.spec === spec) repair.busy = false;
  }
}

const closeRepair = () => $('repair-dialog').open && $('repair-dialog').close();

/* ---------- Repair commands ---------- */

function falloutAction(action, falloutId) {
  const retry = action === 'RETRY';
  openRepair({
    title: retry ? 'Retry fallout' : 'Skip fallout', subject: `Fallout ${falloutId}`,
    submitLabel: retry ? 'Retry' : 'Skip', evidence: 'required',
    path: `fallouts/${enc(falloutId)}/actions`,
    body: ({ reason, note }) => ({ action, reason, evidence: evidenceOf(note) }),
    describe: (r) => pairs({ orderStatus: r.orderStatus, falloutStatus: r.fallout && r.fallout.status, changed: r.changed }),
  });
}

function bulkRetry(falloutIds) {
  if (!falloutIds.length) return;
  openRepair({
    title: 'Retry selected fallouts', subject: `${falloutIds.length} fallout(s) selected`,
    submitLabel: 'Retry selected', evidence: 'required', path: 'fallouts/bulk-actions',
    body: ({ reason, note }) => ({ action: 'RETRY', reason, evidence: evidenceOf(note), falloutIds }),
    describe: (r) => h('div', {},
      h('p', {}, `Applied ${fmtCount(r.applied)}, unchanged ${fmtCount(r.unchanged)}, refused ${fmtCount(r.refused)}.`),
      h('ul', { class: 'compact' }, (r.results || []).map((x) => h('li', {}, pairs(x) || DASH)))),
    // Refusals must be read, so the dialog stays open for them.
    keepOpen: (r) => Number(r.refused) > 0,
  });
}

function retryTask(orderId, taskId) {
  openRepair({
    title: 'Retry task', subject: `Task ${taskId} of order ${orderId}`, submitLabel: 'Retry task',
    evidence: 'optional', path: `orders/${enc(orderId)}/tasks/${enc(taskId)}/retry`,
    body: ({ reason, note }) => ({ reason, evidence: evidenceOf(note) }),
  });
}

function cancelOrder(orderId) {
  const path = `orders/${enc(orderId)}/cancellations`;
  openRepair({
    title: 'Cancel order', subject: `Order ${orderId}`, submitLabel: 'Cancel order', evidence: 'hidden',
    path, body: ({ reason }) => ({ reason }),
    preview: async () => impactView(await request('POST', `${ORDER}${path}/preview`, { body: {} })),
  });
}

// The server's cancellation impact, item by item and task by task.
function impactView(p) {
  const list = (title, rows) => [h('h4', {}, title), rows && rows.length
    ? h('ul', { class: 'compact' }, rows.map((r) => h('li', {}, (typeof r === 'object' ? pairs(r) : String(r)) || DASH)))
    : muted('None.')];
  return h('div', { class: 'impact' }, h('h3', {}, 'Impact preview'),
    h('p', {}, 'Whole order: ', h('strong', {}, fmtBool(p.wholeOrder)), ' · Order status: ', badge(p.orderStatus)),
    list('Items', p.items), list('Tasks', p.tasks));
}

/* ---------- Session, header and start-up ---------- */

async function loadSession() {
  const s = await request('GET', '/console/api/session');
  $('session-user').textContent = s.username;
  $('session-user').title = `Roles: ${(s.roles || []).join(', ')} · Tenant: ${s.tenantId}`;
}

async function logout() {
  await request('POST', '/console/logout');
  window.location.assign(LOGIN);
}

function onSearch(event) {
  event.preventDefault();
  const q = $('search-input').value.trim();
  if (q) go(`#/search?q=${enc(q)}`);
  else $('search-input').focus();
}

function init() {
  for (const name of ['dashboard', 'stuck', 'fallout', 'approvals']) $(`nav-${name}`).addEventListener('click', () => go(`#/${name}`));
  $('search-form').addEventListener('submit', onSearch);
  $('logout-button').addEventListener('click', () => logout().catch(reportError));
  $('repair-form').addEventListener('submit', submitRepair);
  $('repair-close').addEventListener('click', closeRepair);
  $('repair-dialog').addEventListener('close', () => { clearTimeout(repair.closeTimer); repair.spec = null; });
  window.addEventListener('hashchange', route);
  setInterval(refreshAges, 15000);
  loadSession().catch(reportError);
  route();
}

init();
