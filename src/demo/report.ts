/** The demo's results as text: the metrics table, the ledger checks, the dashboards and the files. */
import { BANKS } from '../casestudy/fraud-data.js';
import { formatDuration } from '../cli/progress.js';
import type { DemoResult } from './run.js';

const n = (x: number): string => x.toLocaleString('en');
const f = (x: number | null | undefined, d = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d);

export function formatReport(r: DemoResult, seconds: number): string {
  const L: string[] = [];
  const trainRows = Object.values(r.rows.train).reduce((a, b) => a + b, 0);
  const testRows = Object.values(r.rows.test).reduce((a, b) => a + b, 0);
  const positives = r.pooledPlaintext.positives;
  L.push('');
  L.push(
    `Fraud detection on the joint held-out set: ${n(testRows)} transactions from the three banks, ` +
      `${n(positives)} frauds; threshold p = 0.5`,
  );
  L.push('');
  const head = ['model', 'training rows', 'precision', 'recall', 'F1', 'AUC', 'accuracy'];
  const rows: string[][] = [];
  const j = r.joint;
  const label = `joint secret model (${r.scheme}, MPC)`;
  if (j.available)
    rows.push([label, n(trainRows), f(j.precision), f(j.recall), f(j.f1), f(j.auc), f(j.accuracy, 4)]);
  else rows.push([label, n(trainRows), `not available: ${j.reason}`, '', '', '', '']);
  for (const b of BANKS) {
    const m = r.banksAlone[b]!;
    rows.push([
      `${b} alone (plaintext)`,
      n(m.rows),
      f(m.precision),
      f(m.recall),
      f(m.f1),
      f(m.auc),
      f(m.accuracy, 4),
    ]);
  }
  const p = r.pooledPlaintext;
  rows.push([
    'pooled plaintext (reference*)',
    n(p.rows),
    f(p.precision),
    f(p.recall),
    f(p.f1),
    f(p.auc),
    f(p.accuracy, 4),
  ]);
  const d = r.distillation;
  if (d.available)
    rows.push([
      `public distilled model (${d.publicRows.toLocaleString('en')} public rows)`,
      '—',
      f(d.precision),
      f(d.recall),
      f(d.f1),
      f(d.auc),
      f(d.accuracy, 4),
    ]);
  else rows.push(['public distilled model', '', `not available: ${d.reason}`, '', '', '', '']);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((x) => (x[1] === '' && i > 1 ? 0 : x[i]!.length))),
  );
  const fmt = (x: string[]): string =>
    x
      .map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : x[i] === '' ? '' : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  L.push(fmt(head));
  L.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const x of rows) {
    // a row with a long note spans the metric columns
    if (x.slice(3).every((c) => c === ''))
      L.push(`${x[0]!.padEnd(widths[0]!)}  ${x[1]!.padStart(widths[1]!)}  ${x[2]}`);
    else L.push(fmt(x));
  }
  L.push('* all rows in one place, which no bank may do: what the secure training emulates.');
  if (j.available && j.precision === null)
    L.push('  The joint model reports test accuracy only in this build (precision/recall/F1/AUC: n/a).');
  L.push('');
  const job = r.job;
  L.push(
    `Secure training: ${r.training.epochs} epoch(s) of ${n(trainRows)} rows, batch ${r.training.batchSize}, ` +
      `${job.seconds.toFixed(1)} s (${job.secondsPerEpoch.map((s) => s.toFixed(1) + ' s').join(', ')} per epoch incl. sharing), ` +
      `${job.rounds ?? '?'} rounds, ${job.bytesSentBankA === null ? '?' : (job.bytesSentBankA / 1e6).toFixed(1)} MB sent by bank-a`,
  );
  L.push(`  loss per epoch: ${job.lossPerEpoch.map((l) => l.toFixed(5)).join(', ')}`);
  if (job.validationPerEpoch)
    L.push(`  validation per epoch: ${job.validationPerEpoch.map((v) => JSON.stringify(v)).join('; ')}`);
  L.push(`  approved by ${job.approvals.join(', ')}; the model stays secret-shared among the four nodes.`);
  L.push('');
  L.push('Audit ledgers (sharehold ledger verify --node-config <node>/node.json, at every node):');
  for (const c of r.ledger) {
    const cp = c.checkpoint
      ? `latest counted checkpoint: size ${c.checkpoint.size}, co-signed by ${c.checkpoint.cosigners.join(', ')} (quorum ${c.checkpoint.quorum})`
      : 'no counted checkpoint';
    L.push(
      `  ${c.node.padEnd(8)} ${c.ok ? 'OK' : 'FAILED'}: ${c.logs} logs (own + replicas), ${c.entriesVerified} own entries, ${cp}` +
        (c.crossChecks > 0 ? `, ${c.crossChecks} cross-check problems` : '') +
        (c.errors.length > 0 ? ` — ${c.errors.join('; ')}` : ''),
    );
  }
  L.push('');
  L.push(`Files: ${r.dataDir}`);
  L.push(
    '  <node>/node.json, keys/, node.sqlite (store), ledger.sqlite (audit ledger), checkpoints/, node.log; ' +
      "bank-*/transactions.csv and holdout.csv (each bank's own rows)",
  );
  L.push('');
  L.push(
    r.nodes.some((x) => x.running)
      ? 'Dashboards (nodes still running):'
      : 'Dashboards (with --keep the nodes stay up):',
  );
  for (const x of r.dashboard)
    L.push(`  ${x.node.padEnd(8)} ${x.url}   client certificate ${x.clientCert} (key ${x.clientKey})`);
  L.push(
    "  Open one as that node's operator: sharehold node dashboard --config <dir>/node.json --p12 op.p12, " +
      'import op.p12 in the browser (docs/dashboard.md), or:',
  );
  const first = r.dashboard[0];
  if (first) L.push(`  curl -k --cert ${first.clientCert} --key ${first.clientKey} ${first.url}health`);
  if (r.nodes.some((x) => x.running)) {
    L.push('');
    L.push(`Nodes left running (--keep). Stop them with: kill ${r.nodes.map((x) => x.pid).join(' ')}`);
  }
  L.push('');
  L.push(`${r.ok ? 'OK' : 'NOT OK'} in ${formatDuration(seconds)}.`);
  return L.join('\n');
}
