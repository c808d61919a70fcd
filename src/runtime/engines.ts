/**
 * Engine registry: how a party process builds its engine for a scheme. A scheme may also need
 * helper processes that are not compute parties (e.g. a trusted dealer); their setup returns
 * `role: 'helper'` with the loop they run.
 */
import type { Engine } from '../protocols/engine.js';
import { ShareholdError } from '../errors.js';
import { Rep3Session } from '../protocols/rep3/session.js';
import { rep4EngineFactory } from './rep4-jobs.js';
import { additiveEngineSetup } from './additive-jobs.js';
import { shamirEngineFactory } from './shamir-jobs.js';
import type { Json, PartyContext } from './jobs.js';

export interface EngineOptions {
  /** Fractional bits (default 16). */
  readonly f?: number;
  /** Shamir threshold t. */
  readonly threshold?: number;
  /** Preprocessing provider for schemes that need one: 'dealer' | 'ot'. */
  readonly prep?: string;
  /** Operation-id root (must match across parties). */
  readonly opRoot?: string;
  /** Non-linear backend where a scheme offers a choice: 'ss' (default) or 'gc' (2-party additive). */
  readonly compare?: string;
  /** rep3: truncation triples with sign hints (cheaper comparisons after products; Rep3SessionOptions). */
  readonly signHints?: boolean;
}

export type EngineSetup =
  | { readonly role: 'compute'; readonly engine: Engine<unknown> }
  | { readonly role: 'helper'; readonly run: () => Promise<Json> };

export type EngineFactoryFn = (ctx: PartyContext, opts: EngineOptions) => Promise<EngineSetup>;

const registry = new Map<string, EngineFactoryFn>();

export function registerEngine(scheme: string, fn: EngineFactoryFn): void {
  if (registry.has(scheme)) throw new ShareholdError('invalid-argument', `engine ${scheme} registered twice`);
  registry.set(scheme, fn);
}

export function engineSchemes(): string[] {
  return [...registry.keys()].sort();
}

export async function createEngine(
  scheme: string,
  ctx: PartyContext,
  opts: EngineOptions = {},
): Promise<EngineSetup> {
  const fn = registry.get(scheme);
  if (!fn)
    throw new ShareholdError(
      'invalid-argument',
      `unknown scheme ${JSON.stringify(scheme)}; available: ${engineSchemes().join(', ')}`,
    );
  return fn(ctx, opts);
}

registerEngine('rep3', async (ctx, opts) => {
  if (ctx.n !== 3)
    throw new ShareholdError('invalid-argument', `rep3 runs with exactly 3 parties, not ${ctx.n}`);
  const engine = await Rep3Session.create(ctx.ch, {
    f: opts.f ?? 16,
    opRoot: opts.opRoot ?? 'rep3',
    signHints: opts.signHints ?? false,
  });
  return { role: 'compute', engine };
});

registerEngine('rep4', rep4EngineFactory);

registerEngine('additive', additiveEngineSetup);

registerEngine('shamir', shamirEngineFactory);
