/** The engine conformance suite over every scheme, party count and provider. */
import { conformanceSuite, type EngineFactory } from './conformance.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { ShamirSession } from '../../src/protocols/shamir/session.js';
import { AdditiveSession } from '../../src/protocols/additive/session.js';
import { runDealer } from '../../src/protocols/additive/dealer.js';

const factories: EngineFactory[] = [
  { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) },
  { name: 'rep4', n: 4, create: (ch) => Rep4Session.create(ch, { f: 16 }) },
  { name: 'shamir n=3 t=1', n: 3, create: (ch) => ShamirSession.create(ch, { t: 1, f: 16 }) },
  { name: 'shamir n=5 t=2', n: 5, create: (ch) => ShamirSession.create(ch, { t: 2, f: 16 }) },
  { name: 'additive n=2 ot', n: 2, create: (ch) => AdditiveSession.create(ch, { prep: 'ot', f: 16 }) },
  {
    name: 'additive n=2 dealer, garbled-circuit comparisons',
    n: 2,
    helpers: 1,
    create: (ch) => AdditiveSession.create(ch, { prep: 'dealer', parties: 2, f: 16, compare: 'gc' }),
    runHelper: (ch) => runDealer(ch, { opRoot: 'additive' }),
  },
  {
    name: 'additive n=3 dealer',
    n: 3,
    helpers: 1, // the dealer: a separate member (index 3), never a compute party
    create: (ch) => AdditiveSession.create(ch, { prep: 'dealer', parties: 3, f: 16 }),
    runHelper: (ch) => runDealer(ch, { opRoot: 'additive' }),
  },
];

for (const fac of factories) conformanceSuite(fac);
