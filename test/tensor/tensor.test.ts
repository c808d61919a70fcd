/** Secret tensors: every op on rep3 in memory; a subset through the same code on Shamir and additive. */
import { tensorSuite } from './suite.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { ShamirSession } from '../../src/protocols/shamir/session.js';
import { AdditiveSession } from '../../src/protocols/additive/session.js';

tensorSuite({ name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) }, [
  'shape',
  'elementwise',
  'matmul',
  'conv-pool',
  'reduce-compare',
]);
tensorSuite({ name: 'shamir n=3 t=1', n: 3, create: (ch) => ShamirSession.create(ch, { t: 1, f: 16 }) }, [
  'elementwise',
  'matmul',
  'reduce-compare',
]);
tensorSuite(
  { name: 'additive n=2 ot', n: 2, create: (ch) => AdditiveSession.create(ch, { prep: 'ot', f: 16 }) },
  ['conv-pool'],
);
