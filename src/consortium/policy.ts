/**
 * Parameter negotiation, local half: a node checks a validated job spec against the consortium policy
 * and its own local limits, and returns EVERY reason to refuse (an empty list means it may approve).
 */
import type { JobSpec } from '../spec/types.js';
import { findMember, type Role, type RosterBody, type SecurityModel } from './roster.js';

/** Local limits a node adds to the policy (a node may be stricter than the consortium, never looser). */
export interface SpecLimits {
  maxParties?: number;
  maxEpochs?: number;
  schemes?: string[];
}

/** The number of corrupt parties a spec's scheme tolerates (docs/architecture.md security model). */
export function corruptionThreshold(spec: JobSpec): number {
  switch (spec.scheme.name) {
    case 'rep3':
    case 'rep4':
      return 1;
    case 'shamir':
      return spec.scheme.threshold ?? Math.floor((spec.scheme.parties - 1) / 2);
    case 'additive':
      return spec.scheme.parties - 1;
  }
}

/** The engine is semi-honest throughout; a spec cannot ask for more yet. */
export function securityModelOf(_spec: JobSpec): SecurityModel {
  return 'semi-honest';
}

/** Members whose datasets the job reads. */
export function dataOwnersOf(spec: JobSpec): string[] {
  const owners = new Set<string>();
  for (const d of [...(spec.data?.train ?? []), ...(spec.data?.test ?? [])]) owners.add(d.member);
  return [...owners];
}

/**
 * Every reason the policy of `roster` (and `limits`) forbids `spec`; empty if it is acceptable.
 * Never throws.
 */
export function checkSpec(spec: JobSpec, roster: RosterBody, limits: SpecLimits = {}): string[] {
  const p = roster.policy;
  const reasons: string[] = [];
  const scheme = spec.scheme.name;
  if (!p.schemes.includes(scheme))
    reasons.push(`scheme ${scheme} is not allowed (policy: ${p.schemes.join(', ')})`);
  if (limits.schemes && !limits.schemes.includes(scheme))
    reasons.push(`scheme ${scheme} is not accepted by this node (local: ${limits.schemes.join(', ')})`);
  const model = securityModelOf(spec);
  if (!p.securityModels.includes(model))
    reasons.push(`security model ${model} is not allowed (policy: ${p.securityModels.join(', ')})`);
  const t = corruptionThreshold(spec);
  if (t < p.minThreshold)
    reasons.push(
      `${scheme} with ${spec.scheme.parties} parties tolerates ${t} corrupt, policy minimum is ${p.minThreshold}`,
    );
  const f = spec.fixedPoint.f;
  if (f < p.fixedPoint.minF || f > p.fixedPoint.maxF)
    reasons.push(
      `fixed-point f = ${f} is outside the policy bounds [${p.fixedPoint.minF}, ${p.fixedPoint.maxF}]`,
    );
  if (limits.maxParties !== undefined && spec.scheme.parties > limits.maxParties)
    reasons.push(`${spec.scheme.parties} parties exceed this node's limit of ${limits.maxParties}`);
  if (limits.maxEpochs !== undefined && spec.training && spec.training.epochs > limits.maxEpochs)
    reasons.push(`${spec.training.epochs} epochs exceed this node's limit of ${limits.maxEpochs}`);
  const needRole = (name: string, role: Role, what: string): void => {
    const m = findMember(roster, name);
    if (!m) reasons.push(`${what} ${name} is not a consortium member`);
    else if (!m.roles.includes(role))
      reasons.push(`${what} ${name} does not have the role ${role} (has ${m.roles.join(', ')})`);
  };
  for (const m of spec.members) needRole(m.name, 'compute', 'compute party');
  for (const o of dataOwnersOf(spec)) needRole(o, 'data-owner', 'dataset owner');
  if (spec.model.type === 'onnx') needRole(spec.model.owner, 'model-owner', 'model owner');
  if (spec.input) needRole(spec.input.member, 'querier', 'querier');
  // Outputs: a revealed model after training, predictions after inference.
  const kind = spec.task === 'train' ? 'model' : 'predictions';
  const allowed = p.outputs[kind];
  const reveals = spec.task === 'infer' || spec.output.model === 'reveal';
  if (reveals)
    for (const to of spec.output.to) {
      const m = findMember(roster, to);
      if (!m) reasons.push(`output recipient ${to} is not a consortium member`);
      else if (!m.roles.some((r) => allowed.includes(r)))
        reasons.push(
          `output recipient ${to} (${m.roles.join(', ')}) may not receive the ${kind}; allowed roles: ${allowed.join(', ') || 'none'}`,
        );
    }
  return reasons;
}
