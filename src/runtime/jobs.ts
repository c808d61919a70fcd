/**
 * The job registry: a job is a function every party runs with its own context (channel, index,
 * parameters). The local launcher and, later, the node orchestrator start parties by job name.
 */
import type { Channel } from '../protocols/channel.js';
import { ShareholdError } from '../errors.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface PartyContext {
  /** This party's connected channel (TLS in real runs). */
  readonly ch: Channel;
  readonly me: number;
  readonly n: number;
  /** Job parameters, identical at every party. */
  readonly params: Readonly<Record<string, Json>>;
  /** Progress/diagnostic lines; never pass shares or keys here. */
  log(message: string): void;
}

export type JobFn = (ctx: PartyContext) => Promise<Json>;

const registry = new Map<string, JobFn>();

export function registerJob(name: string, fn: JobFn): void {
  if (registry.has(name)) throw new ShareholdError('invalid-argument', `job ${name} registered twice`);
  registry.set(name, fn);
}

export function getJob(name: string): JobFn {
  const fn = registry.get(name);
  if (!fn) throw new ShareholdError('invalid-argument', `unknown job ${JSON.stringify(name)}`);
  return fn;
}

export function jobNames(): string[] {
  return [...registry.keys()].sort();
}
