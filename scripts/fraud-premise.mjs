// The case study's premise in plaintext (docs/casestudy.md): a 16-32-16-1 MLP trained on all three
// banks' rows beats each bank's own model on the joint held-out set. Usage, after `npm run build`:
//   node scripts/fraud-premise.mjs [trainRows=500000] [epochs=2]
import { generateBank, bankSizes, DEFAULT_FRAUD_SEED, NF } from '../dist/src/casestudy/fraud-data.js';
import {
  initMlp,
  trainMlp,
  forwardMlp,
  binaryMetrics,
  columnStats,
  featuresAndLabels,
} from '../dist/src/casestudy/plain.js';
import { concatTables, shuffleTable } from '../dist/src/demo/baseline.js';

const total = Number(process.argv[2] ?? 500000);
const epochs = Number(process.argv[3] ?? 2);
const W = NF + 1;
const sizes = bankSizes(total);
const train = sizes.map((n, b) => generateBank(DEFAULT_FRAUD_SEED, b, 'train', n));
const test = sizes.map((n, b) => generateBank(DEFAULT_FRAUD_SEED, b, 'test', Math.round(n * 0.2)));

const tst = concatTables(test);
function run(name, tab) {
  const st = columnStats(tab.data, tab.rows, W, NF);
  const { x, y } = featuresAndLabels(tab.data, tab.rows, W, st);
  const m = initMlp([NF, 32, 16, 1], DEFAULT_FRAUD_SEED);
  trainMlp(m, x, y, tab.rows, { epochs, batchSize: 256, lr: 0.003, posWeight: 10 });
  const te = featuresAndLabels(tst.data, tst.rows, W, st);
  const z = forwardMlp(m, te.x, tst.rows);
  const met = binaryMetrics(z, te.y, 0);
  const recall = [1, 2, 3, 4].map((p) => {
    let hit = 0;
    let n = 0;
    for (let i = 0; i < tst.rows; i++)
      if (tst.pattern[i] === p) {
        n++;
        if (z[i] > 0) hit++;
      }
    return (hit / n).toFixed(2);
  });
  console.log(
    `${name.padEnd(6)} AUC ${met.auc.toFixed(3)}  F1 ${met.f1.toFixed(2)}  recall (takeover, skimming, bust-out, ring) ${recall.join(', ')}`,
  );
}
run('joint', shuffleTable(concatTables(train)));
train.forEach((t, b) => run(`bank ${'ABC'[b]}`, t));
