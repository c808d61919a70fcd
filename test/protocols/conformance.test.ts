/** The engine conformance suite over every scheme, party count and provider. */
import { conformanceSuite, type EngineFactory } from './conformance.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { ShamirSession } from '../../src/protocols/shamir/session.js';

const factories: EngineFactory[] = [
  { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) },
  { name: 'rep4', n: 4, create: (ch) => Rep4Session.create(ch, { f: 16 }) },
  { name: 'shamir n=3 t=1', n: 3, create: (ch) => ShamirSession.create(ch, { t: 1, f: 16 }) },
  { name: 'shamir n=5 t=2', n: 5, create: (ch) => ShamirSession.create(ch, { t: 2, f: 16 }) },
];

for (const fac of factories) conformanceSuite(fac);
