/* global document, window, fetch, WebSocket, location, setTimeout, clearTimeout, Node, CSS, uPlot */
/**
 * The node's dashboard (docs/dashboard.md): plain ES module, no build step. Everything it shows comes
 * from the node's own API on the same origin (the browser presents the operator's client certificate
 * at the TLS handshake) and from its WebSocket of audit events. Text from the network is only ever
 * set with textContent (never parsed as HTML): other members' job names and reasons are untrusted.
 */

/** @type {{ node: string, operator: boolean, caller: { kind: string, name: string } } | null} */
let me = null;
/** Training curves by job id: epochs, loss, metrics by name (aligned with epochs). */
const curves = new Map();
/** Refusal reasons being typed, by job id (kept when the job list is redrawn on events). */
const typedReasons = new Map();
/** Last epoch summary (rounds, bytes) by job id, from job.epoch. */
const epochs = new Map();
/** Job id → the latest step progress line (from `job.step` events). */
const steps = new Map();

/**
 * Create an element: el('td', { class: 'ok' }, 'text', childNode).
 * @param {string} tag
 * @param {Record<string, string | boolean | ((e: Event) => void)>} [attrs]
 * @param {...(Node | string | number | null | undefined)} children
 */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false) e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

/**
 * Call the node's API; resolves with the parsed body or throws an Error with the server's message.
 * @param {string} path
 * @param {'GET' | 'POST'} [method]
 * @param {unknown} [body]
 */
async function api(path, method = 'GET', body) {
  const r = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error(data && data.message ? `${data.message}` : `HTTP ${r.status}`);
  return data;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const short = (hex) => (typeof hex === 'string' && hex.length > 16 ? `${hex.slice(0, 16)}…` : hex);
const fmtBytes = (n) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} MB`
      : `${(n / 1e3).toFixed(1)} kB`;

/** Replace the rows of a table body; an empty list shows `empty` in one row. */
function fillTable(id, rows, columns, empty) {
  const body = document.getElementById(id);
  body.replaceChildren(
    ...(rows.length > 0
      ? rows
      : [el('tr', {}, el('td', { colspan: String(columns), class: 'hint' }, empty))]),
  );
}

async function loadWhoami() {
  me = await api('/api/whoami');
  document.getElementById('node-name').textContent = me.node;
  document.title = `Sharehold node ${me.node}`;
  document.getElementById('whoami').textContent = me.operator
    ? `Signed in as ${me.caller.name}, this node's operator: you may decide on jobs.`
    : `Signed in as member ${me.caller.name}: read-only.`;
}

/** The compute mesh as the node's orchestrator sees it (a node without one answers 404). */
async function loadMesh() {
  const out = document.getElementById('mesh-status');
  try {
    const o = await api('/api/orchestrator');
    out.dataset.mesh = o.meshUp ? 'up' : 'down';
    out.textContent =
      `Compute mesh: ${o.meshUp ? `up (generation ${o.meshGeneration})` : 'down'}; ` +
      `running: ${o.running.join(', ') || 'none'}; queued: ${o.queued.join(', ') || 'none'}.`;
  } catch {
    out.dataset.mesh = 'none';
    out.textContent = 'This node runs no orchestrator.';
  }
}

async function loadMembers() {
  void loadMesh();
  const { members } = await api('/api/members/health');
  fillTable(
    'members-body',
    members.map((m) =>
      el(
        'tr',
        { 'data-member': m.name },
        el('th', { scope: 'row' }, m.name, m.self ? ' (this node)' : ''),
        el('td', {}, m.roles.join(', ')),
        el('td', { class: 'mono' }, m.endpoint),
        el('td', { class: m.certificate === 'ok' ? 'ok' : 'bad' }, m.certificate),
        el(
          'td',
          { class: m.reachable ? 'ok' : 'bad', 'data-health': m.reachable ? 'up' : 'down' },
          m.reachable ? m.health.status : `unreachable (${m.error})`,
        ),
        el('td', {}, m.health ? String(m.health.rosterVersion) : '—'),
        el('td', {}, m.latencyMs !== undefined ? `${m.latencyMs} ms` : '—'),
      ),
    ),
    7,
    'No roster yet.',
  );
}

async function loadDatasets() {
  const list = await api('/api/datasets');
  fillTable(
    'datasets-body',
    list.map((d) =>
      el(
        'tr',
        { 'data-dataset': d.name },
        el('th', { scope: 'row' }, d.name),
        el('td', {}, d.owner),
        el('td', {}, d.schema.columns.join(', ')),
        el('td', {}, d.schema.integerColumns.join(', ') || '—'),
        el('td', {}, String(d.rows)),
        el('td', {}, fmtTime(d.registeredAt)),
      ),
    ),
    6,
    'No dataset registered on this node.',
  );
}

function setJobsMessage(text, ok) {
  const m = document.getElementById('jobs-message');
  m.textContent = text;
  m.className = ok ? 'ok' : 'bad';
}

async function approve(jobId) {
  try {
    const r = await api(`/api/jobs/${encodeURIComponent(jobId)}/decide`, 'POST');
    const b = r.signed.body;
    setJobsMessage(
      b.decision === 'approve'
        ? `${jobId}: approved and signed by ${b.member}.`
        : `${jobId}: the policy check failed, refusal signed: ${b.reasons.join('; ')}`,
      b.decision === 'approve',
    );
  } catch (e) {
    setJobsMessage(`${jobId}: ${e.message}`, false);
  }
  await loadJobs();
}

async function refuse(jobId, input) {
  const reason = input.value.trim();
  if (!reason) {
    setJobsMessage(`${jobId}: give a reason to refuse.`, false);
    input.focus();
    return;
  }
  try {
    await api(`/api/jobs/${encodeURIComponent(jobId)}/refuse`, 'POST', { reason });
    typedReasons.delete(jobId);
    setJobsMessage(`${jobId}: refusal signed.`, true);
  } catch (e) {
    setJobsMessage(`${jobId}: ${e.message}`, false);
  }
  await loadJobs();
}

/** One line about a job event (run events from the orchestrator, negotiation events). */
function eventText(type, d) {
  switch (type) {
    case 'job.queued':
      return `queued (party ${d.party}): ${d.reason}`;
    case 'job.started':
      return `started as party ${d.party} of ${(d.parties ?? []).join(', ')}${d.resumeFrom !== null && d.resumeFrom !== undefined ? `, resuming from epoch ${d.resumeFrom}` : ''}`;
    case 'job.progress':
      return `epoch ${d.epoch}${d.epochs ? ` of ${d.epochs}` : ''}: loss ${typeof d.loss === 'number' ? d.loss.toPrecision(4) : 'not revealed'}`;
    case 'job.phase':
      return `inputs secret-shared and standardized in ${(d.ms / 1000).toFixed(1)} s`;
    case 'job.step':
      return `epoch ${d.epoch + 1}${d.epochs ? ` of ${d.epochs}` : ''}: step ${d.step} of ${d.steps}`;
    case 'job.epoch':
      return `epoch ${d.epoch}: ${d.rounds} rounds, sent ${fmtBytes(d.bytesSent ?? d.bytes ?? 0)}, received ${fmtBytes(d.bytesReceived ?? 0)}`;
    case 'job.checkpoint':
      return `checkpoint after epoch ${d.epoch ?? d.step} (${typeof d.bytes === 'number' ? fmtBytes(d.bytes) : 'secret-shared'}, digest ${short(d.digest)})`;
    case 'job.paused':
      return `paused: ${d.reason}${d.lastCheckpoint !== null && d.lastCheckpoint !== undefined ? ` (last checkpoint: epoch ${d.lastCheckpoint})` : ''}`;
    case 'job.resumed':
      return `resumed from epoch ${d.fromEpoch}`;
    case 'job.failed':
      return `failed: ${d.code}: ${d.message}`;
    case 'job.done':
      return `done in ${d.seconds} s, ${d.rounds} rounds, sent ${fmtBytes(d.bytesSent ?? 0)}`;
    case 'output.delivered':
      return `output delivered to ${d.recipient} (digest ${short(d.digest)})`;
    case 'output.refused':
      return `output refused to ${d.requester}: ${d.reason}`;
    case 'job.decision':
      return `${d.member}: ${d.decision}${d.reasons && d.reasons.length ? ` (${d.reasons.join('; ')})` : ''}`;
    case 'job.proposed':
      return `proposed by ${d.proposer}`;
    case 'job.approved':
      return `approved by ${(d.approvedBy ?? []).join(', ')}`;
    case 'job.refused':
      return `refused by ${(d.refusedBy ?? []).join(', ')}`;
    default:
      return type;
  }
}

function jobCard(view, events) {
  const { job, decisions, quorum } = view;
  const mine = decisions.find((d) => d.body.member === me?.node);
  const canAct = Boolean(me?.operator) && job.state === 'proposed' && !mine;
  const reasonId = `refuse-reason-${job.id}`;
  const reasonInput = el('input', {
    id: reasonId,
    type: 'text',
    maxlength: '200',
    disabled: !canAct,
    oninput: (e) => typedReasons.set(job.id, e.target.value),
  });
  reasonInput.value = typedReasons.get(job.id) ?? '';
  const ep = epochs.get(job.id);
  return el(
    'article',
    { class: 'job', 'data-job': job.id, 'aria-labelledby': `job-h-${job.id}` },
    el(
      'h3',
      { id: `job-h-${job.id}` },
      `${job.name} `,
      el('span', { class: 'state', 'data-state': job.state }, job.state),
    ),
    el(
      'p',
      {},
      'Job ',
      el('code', {}, job.id),
      ` proposed by ${job.proposer} under roster version ${job.rosterVersion}, ${fmtTime(job.createdAt)}. Spec hash `,
      el('code', { title: job.specHash }, short(job.specHash)),
      '.',
    ),
    quorum
      ? el(
          'p',
          { 'data-quorum': quorum.met ? 'met' : 'open' },
          `Quorum ${quorum.met ? 'met' : 'not met'}: approved by ${quorum.approvedBy.join(', ') || 'nobody yet'}`,
          quorum.refusedBy.length ? `; refused by ${quorum.refusedBy.map((r) => r.member).join(', ')}` : '',
          '.',
        )
      : null,
    ep ? el('p', { 'data-epoch': String(ep.epoch) }, ep.text) : null,
    el('p', { 'data-steps': job.id, hidden: !steps.has(job.id) }, steps.get(job.id) ?? ''),
    events.length
      ? el(
          'details',
          { 'data-activity': job.id },
          el(
            'summary',
            {},
            `Activity (${events.length} events; last: ${eventText(events.at(-1).type, events.at(-1).data)})`,
          ),
          el(
            'ol',
            {},
            ...events
              // step events are throttled but many: only the latest one is listed
              .filter(
                (e, i) => e.type !== 'job.step' || !events.slice(i + 1).some((f) => f.type === 'job.step'),
              )
              .slice(-30)
              .map((e) =>
                el('li', { 'data-event': e.type }, `${fmtTime(e.at)}: ${eventText(e.type, e.data)}`),
              ),
          ),
        )
      : null,
    el(
      'table',
      {},
      el('caption', {}, 'Signed decisions'),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'Member'),
          el('th', { scope: 'col' }, 'Decision'),
          el('th', { scope: 'col' }, 'Reasons'),
          el('th', { scope: 'col' }, 'Signed at'),
        ),
      ),
      el(
        'tbody',
        {},
        ...(decisions.length
          ? decisions.map((d) =>
              el(
                'tr',
                { 'data-decision': d.body.member },
                el('th', { scope: 'row' }, d.body.member),
                el('td', { class: d.body.decision === 'approve' ? 'ok' : 'bad' }, d.body.decision),
                el('td', {}, d.body.reasons.join('; ') || '—'),
                el('td', {}, fmtTime(d.body.signedAt)),
              ),
            )
          : [el('tr', {}, el('td', { colspan: '4', class: 'hint' }, 'No decision yet.'))]),
      ),
    ),
    el(
      'div',
      { role: 'group', 'aria-label': `Decide on ${job.id}` },
      el(
        'button',
        {
          type: 'button',
          'data-action': 'approve',
          disabled: !canAct,
          onclick: () => void approve(job.id),
        },
        'Approve',
      ),
      el('label', { for: reasonId }, 'Reason to refuse: '),
      reasonInput,
      el(
        'button',
        {
          type: 'button',
          'data-action': 'refuse',
          disabled: !canAct,
          onclick: () => void refuse(job.id, reasonInput),
        },
        'Refuse',
      ),
      !me?.operator ? el('span', { class: 'hint' }, ' Only the operator may decide.') : null,
      mine ? el('span', { class: 'hint' }, ` This node has decided: ${mine.body.decision}.`) : null,
    ),
  );
}

let jobsLoading = null;
async function loadJobs() {
  const list = await api('/api/jobs');
  const loaded = await Promise.all(
    list.map(async (j) => {
      const id = encodeURIComponent(j.id);
      const [view, events] = await Promise.all([api(`/api/jobs/${id}`), api(`/api/jobs/${id}/events`)]);
      return { view, events };
    }),
  );
  loaded.sort((a, b) => (a.view.job.createdAt < b.view.job.createdAt ? 1 : -1));
  const box = document.getElementById('jobs-list');
  const focused = document.activeElement?.id;
  const open = new Set([...box.querySelectorAll('details[open]')].map((d) => d.dataset.activity));
  box.replaceChildren(
    ...(loaded.length
      ? loaded.map((l) => jobCard(l.view, l.events))
      : [el('p', { class: 'empty' }, 'No job yet.')]),
  );
  for (const d of box.querySelectorAll('details[data-activity]'))
    if (open.has(d.dataset.activity)) d.open = true;
  if (focused) document.getElementById(focused)?.focus();
  // Training curves from the stored events too (a page opened mid-training, or events missed).
  for (const l of loaded)
    for (const e of l.events) if (e.type === 'job.progress') addProgress({ jobId: l.view.job.id, ...e.data });
}
/** Reload the jobs once, however many events arrive while loading. */
function refreshJobs() {
  if (jobsLoading) return;
  jobsLoading = setTimeout(() => {
    jobsLoading = null;
    loadJobs().catch((e) => setJobsMessage(e.message, false));
  }, 150);
}

const COLORS = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c'];

/** Add one job.progress event ({jobId, epoch, loss, metrics}) to its curve and redraw. */
function addProgress(e) {
  if (typeof e.epoch !== 'number' || (typeof e.loss !== 'number' && e.loss !== null)) return;
  let c = curves.get(e.jobId);
  if (!c) {
    c = { epochs: [], loss: [], metrics: new Map(), plot: null, keys: '' };
    curves.set(e.jobId, c);
  }
  const at = c.epochs.indexOf(e.epoch);
  const i = at >= 0 ? at : c.epochs.length;
  c.epochs[i] = e.epoch;
  c.loss[i] = e.loss;
  for (const [k, v] of Object.entries(e.metrics ?? {})) {
    if (typeof v !== 'number') continue;
    if (!c.metrics.has(k)) c.metrics.set(k, []);
    c.metrics.get(k)[i] = v;
  }
  drawCurve(e.jobId, c);
}

function drawCurve(jobId, c) {
  const list = document.getElementById('curves-list');
  list.querySelector('.empty')?.remove();
  let box = list.querySelector(`[data-curve="${CSS.escape(jobId)}"]`);
  if (!box) {
    box = el('figure', { class: 'curve', 'data-curve': jobId }, el('figcaption', {}, `Job ${jobId}`));
    list.append(box);
  }
  const order = c.epochs.map((_, i) => i).sort((a, b) => c.epochs[a] - c.epochs[b]);
  const names = [...c.metrics.keys()];
  const data = [
    order.map((i) => c.epochs[i]),
    order.map((i) => c.loss[i]),
    ...names.map((k) => order.map((i) => c.metrics.get(k)[i] ?? null)),
  ];
  box.setAttribute('data-points', String(data[0].length));
  const lastLoss = data[1].filter((v) => typeof v === 'number').at(-1);
  box.setAttribute(
    'aria-label',
    `Training curve of ${jobId}: ${data[0].length} epochs, last loss ${lastLoss === undefined ? 'not revealed' : lastLoss.toPrecision(4)}`,
  );
  const keys = names.join(',');
  if (c.plot && c.keys === keys) {
    c.plot.setData(data);
    return;
  }
  c.plot?.destroy();
  c.keys = keys;
  if (typeof uPlot !== 'function') {
    box.append(el('p', { class: 'bad' }, 'The chart library did not load.'));
    return;
  }
  c.plot = new uPlot(
    {
      width: Math.min(880, Math.max(320, list.clientWidth - 24)),
      height: 280,
      scales: { x: { time: false }, metric: { range: [0, 1] } },
      axes: [
        { label: 'epoch' },
        { label: 'loss', scale: 'y' },
        ...(names.length
          ? [{ label: names.join(', '), scale: 'metric', side: 1, grid: { show: false } }]
          : []),
      ],
      series: [
        { label: 'epoch' },
        { label: 'loss', stroke: COLORS[0], width: 2, points: { show: true } },
        ...names.map((k, j) => ({
          label: k,
          scale: 'metric',
          stroke: COLORS[(j + 1) % COLORS.length],
          width: 2,
        })),
      ],
    },
    data,
    box,
  );
}

function onEvent(e) {
  switch (e.type) {
    case 'job.progress':
      addProgress(e);
      refreshJobs();
      break;
    case 'job.epoch':
      epochs.set(e.jobId, { epoch: e.epoch, text: `Last ${eventText(e.type, e)}.` });
      refreshJobs();
      break;
    case 'job.step': {
      // updated in place (one event a second or so): no reload of the job list
      const text = `Training: ${eventText(e.type, e)}.`;
      steps.set(e.jobId, text);
      const p = [...document.querySelectorAll('p[data-steps]')].find((x) => x.dataset.steps === e.jobId);
      if (p) {
        p.textContent = text;
        p.hidden = false;
      }
      break;
    }
    case 'dataset.registered':
      void loadDatasets();
      break;
    case 'roster.updated':
      void loadMembers();
      break;
    case 'mesh.up':
    case 'mesh.down':
      void loadMesh();
      break;
    default:
      if (typeof e.type === 'string' && (e.type.startsWith('job.') || e.type.startsWith('output.')))
        refreshJobs();
      if (e.type === 'job.started' || e.type === 'job.done' || e.type === 'job.failed') void loadMesh();
      if (typeof e.type === 'string' && e.type.startsWith('ledger.')) void loadLedger();
  }
}

let wsRetry = 500;
let wsTimer = null;
function connectEvents() {
  const status = document.getElementById('ws-status');
  const ws = new WebSocket(`wss://${location.host}/api/events`);
  ws.addEventListener('open', () => {
    wsRetry = 500;
    status.textContent = 'connected';
    status.dataset.state = 'open';
  });
  ws.addEventListener('message', (m) => {
    try {
      onEvent(JSON.parse(m.data));
    } catch {
      /* not an event */
    }
  });
  ws.addEventListener('close', () => {
    status.textContent = `disconnected, retrying in ${wsRetry / 1000} s`;
    status.dataset.state = 'closed';
    clearTimeout(wsTimer);
    wsTimer = setTimeout(connectEvents, wsRetry);
    wsRetry = Math.min(wsRetry * 2, 10_000);
  });
}

function describe(event) {
  const skip = new Set(['type', 'time']);
  return Object.entries(event)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? short(v) : JSON.stringify(v)}`)
    .join(', ');
}

/** Every log the node holds: its own and its replicas of the other members' (GET /v1/ledger/logs). */
async function loadLogs() {
  let logs = [];
  try {
    logs = (await api('/v1/ledger/logs')).logs;
  } catch {
    /* the gateway runs without the ledger sync */
  }
  fillTable(
    'logs-body',
    logs.map((l) =>
      el(
        'tr',
        { 'data-log': l.log, 'data-role': l.role },
        el('th', { scope: 'row' }, l.log),
        el('td', {}, l.role === 'own' ? 'own log' : 'replica'),
        el('td', {}, String(l.size)),
        el('td', { class: 'mono hash', title: l.root }, short(l.root)),
        el(
          'td',
          { class: l.checkpoint && l.checkpoint.quorumMet && l.checkpoint.size === l.size ? 'ok' : 'bad' },
          l.checkpoint
            ? `size ${l.checkpoint.size}, co-signed by ${l.checkpoint.cosigners.join(', ') || 'nobody'} (${l.checkpoint.cosigners.length} of ${l.checkpoint.quorum}${l.checkpoint.quorumMet ? ', met' : ''})`
            : 'none',
        ),
      ),
    ),
    5,
    'None.',
  );
}

async function loadLedger() {
  void loadLogs();
  const l = await api('/api/ledger');
  const summary = document.getElementById('ledger-summary');
  const button = document.getElementById('verify-ledger');
  if (!l.available) {
    summary.textContent = 'This node keeps no ledger yet.';
    button.disabled = true;
    fillTable('checkpoints-body', [], 4, 'None.');
    fillTable('entries-body', [], 4, 'None.');
    return;
  }
  button.disabled = false;
  summary.textContent = `Log ${l.origin}, written by ${l.log}; ${l.size} entries; a checkpoint counts with ${l.quorum} of ${l.members.length} co-signatures (${l.members.join(', ')}).`;
  fillTable(
    'checkpoints-body',
    [...l.checkpoints]
      .reverse()
      .map((c) =>
        el(
          'tr',
          { 'data-checkpoint': String(c.size) },
          el('th', { scope: 'row' }, String(c.size)),
          el('td', { class: 'mono' }, c.root),
          el('td', {}, c.cosigners.join(', ') || '—'),
          el(
            'td',
            { class: c.quorumMet ? 'ok' : 'bad' },
            c.error ? c.error : `${c.cosigners.length} of ${c.quorum}${c.quorumMet ? ' (met)' : ''}`,
          ),
        ),
      ),
    4,
    'No checkpoint.',
  );
  fillTable(
    'entries-body',
    [...l.entries]
      .reverse()
      .map((e) =>
        el(
          'tr',
          { 'data-entry': String(e.index) },
          el('th', { scope: 'row' }, String(e.index)),
          el('td', {}, e.event.type ?? '?'),
          el('td', {}, describe(e.event)),
          el('td', { class: 'mono hash', title: e.leafHash }, short(e.leafHash)),
        ),
      ),
    4,
    'No entry.',
  );
}

async function verifyLedger() {
  const out = document.getElementById('verify-result');
  const button = document.getElementById('verify-ledger');
  button.disabled = true;
  out.textContent = 'Verifying…';
  out.removeAttribute('data-ok');
  try {
    const r = await api('/api/ledger/verify', 'POST');
    if (r.available === false) {
      out.textContent = 'This node keeps no ledger yet.';
      return;
    }
    // 'true': entries and a co-signed checkpoint check out; 'partial': every entry checks out but no
    // checkpoint carries the quorum of co-signatures yet; 'false': something does not check out.
    const onlyNoQuorum = r.firstBadIndex === undefined && r.errors.every((e) => e.code === 'quorum-missing');
    const verdict = r.ok ? 'true' : onlyNoQuorum ? 'partial' : 'false';
    out.dataset.ok = verdict;
    out.className = verdict === 'false' ? 'bad' : 'ok';
    const cp = r.checkpoint
      ? ` Latest co-signed checkpoint: size ${r.checkpoint.size}, co-signed by ${r.checkpoint.cosigners.join(', ')} (quorum ${r.checkpoint.quorum}).`
      : '';
    const head = {
      true: `Verified: ${r.entriesVerified} entries.${cp}`,
      partial: `Entries verified: ${r.entriesVerified} (canonical form, schema, leaf hashes, tree recomputed). No co-signed checkpoint yet.`,
      false: `Verification FAILED after ${r.entriesVerified} entries.`,
    }[verdict];
    out.replaceChildren(
      el('p', {}, head),
      ...(r.firstBadIndex !== undefined ? [el('p', {}, `First bad entry: ${r.firstBadIndex}.`)] : []),
      ...(Array.isArray(r.logs)
        ? [
            el(
              'ul',
              {},
              ...r.logs.map((l) =>
                el(
                  'li',
                  { 'data-log': l.log, class: l.ok ? 'ok' : 'bad' },
                  `${l.ok ? 'OK' : 'FAILED'}: ${l.log} (${l.role === 'own' ? 'own log' : 'replica'}), ${l.entries} entries` +
                    (l.checkpoint
                      ? `, checkpoint size ${l.checkpoint.size} co-signed by ${l.checkpoint.cosigners.join(', ')}`
                      : ', no co-signed checkpoint'),
                ),
              ),
            ),
          ]
        : []),
      ...r.errors.map((e) =>
        el('p', { class: verdict === 'partial' ? 'hint' : 'bad' }, `${e.code}: ${e.message}`),
      ),
      ...r.warnings.map((w) => el('p', { class: 'hint' }, w)),
      el('p', { class: 'hint' }, `Checked in ${r.ms} ms.`),
    );
  } catch (e) {
    out.className = 'bad';
    out.dataset.ok = 'false';
    out.textContent = `Verification could not run: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

async function main() {
  await loadWhoami();
  document.getElementById('refresh-members').addEventListener('click', () => void loadMembers());
  document.getElementById('verify-ledger').addEventListener('click', () => void verifyLedger());
  connectEvents();
  const results = await Promise.allSettled([loadMembers(), loadDatasets(), loadJobs(), loadLedger()]);
  for (const r of results) if (r.status === 'rejected') setJobsMessage(r.reason.message, false);
  document.body.dataset.ready = 'true';
}

window.addEventListener('DOMContentLoaded', () => {
  main().catch((e) => {
    document.getElementById('whoami').textContent = `Cannot reach the node's API: ${e.message}`;
  });
});
