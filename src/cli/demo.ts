/**
 * `sharehold demo`: the quick-start job. Three parties (hospitals) start as separate processes,
 * connect over mutually authenticated TLS 1.3 on 127.0.0.1, secret-share their private measurements
 * with the replicated 3-party protocol, and learn only the joint mean, the count above a threshold
 * and the maximum. The demo then checks the secure result against the plaintext computation (which
 * only this local demo can do: it sees every party's local report).
 */
import { launchLocal } from '../runtime/launcher.js';
import { parseArgs } from 'node:util';

interface DemoResult {
  party: number;
  rows: number;
  mean: number;
  countAbove: number;
  max: number;
  myMean: number;
  myCountAbove: number;
  myMax: number;
  totalRounds: number;
  totalBytesSent: number;
}

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string', default: '2000' },
      threshold: { type: 'string', default: '140' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: sharehold demo [--rows N] [--threshold T] [--json]');
    return 0;
  }
  const rows = Number(values.rows);
  const threshold = Number(values.threshold);
  if (!values.json)
    console.log(`Starting 3 parties (separate processes, TLS 1.3 on 127.0.0.1), ${rows} private rows each…`);
  const { results, seconds } = await launchLocal({
    n: 3,
    job: 'rep3.demo',
    params: { rows, threshold },
    timeoutMs: 20000,
  });
  const rs = results as unknown as DemoResult[];
  const r0 = rs[0]!;
  const plainMean = rs.reduce((s, r) => s + r.myMean, 0) / 3;
  const plainCount = rs.reduce((s, r) => s + r.myCountAbove, 0);
  const plainMax = Math.max(...rs.map((r) => r.myMax));
  const agree = rs.every((r) => r.mean === r0.mean && r.countAbove === r0.countAbove && r.max === r0.max);
  const tol = 2 ** -16;
  const ok =
    agree &&
    Math.abs(r0.mean - plainMean) < 1e-3 &&
    r0.countAbove === plainCount &&
    Math.abs(r0.max - plainMax) <= tol;
  if (values.json) {
    console.log(
      JSON.stringify({
        ok,
        seconds,
        secure: { mean: r0.mean, countAbove: r0.countAbove, max: r0.max },
        plaintext: { mean: plainMean, countAbove: plainCount, max: plainMax },
      }),
    );
    return ok ? 0 : 1;
  }
  console.log('\n                      secure (rep3)      plaintext check');
  console.log(`joint mean            ${r0.mean.toFixed(4).padEnd(18)} ${plainMean.toFixed(4)}`);
  console.log(`count > ${String(threshold).padEnd(13)} ${String(r0.countAbove).padEnd(18)} ${plainCount}`);
  console.log(`maximum               ${r0.max.toFixed(4).padEnd(18)} ${plainMax.toFixed(4)}`);
  console.log(
    `\n${rs.length} parties, ${seconds.toFixed(2)} s, ${Math.max(...rs.map((r) => r.totalRounds))} rounds, ${(Math.max(...rs.map((r) => r.totalBytesSent)) / 1e6).toFixed(2)} MB sent per party`,
  );
  console.log(
    ok
      ? 'OK: every party got the same result and it matches the plaintext computation.'
      : 'MISMATCH between the secure and plaintext results.',
  );
  return ok ? 0 : 1;
}
