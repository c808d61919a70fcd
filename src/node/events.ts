/**
 * Typed audit events of a node: what the gateway streams over its WebSocket, logs, and stores per job.
 * They carry names, hashes, counts and reasons only: never a key, a share, a dataset path or a row.
 */
import { EventEmitter } from 'node:events';

export type AuditEvent =
  | { type: 'node.started'; node: string; endpoint: string; rosterVersion: number | null }
  | { type: 'roster.updated'; version: number; hash: string; change: string }
  | { type: 'peer.refused'; reason: string }
  | { type: 'dataset.registered'; name: string; owner: string; rows: number; columns: number }
  | { type: 'job.proposed'; jobId: string; name: string; specHash: string; proposer: string }
  | {
      type: 'job.decision';
      jobId: string;
      member: string;
      decision: 'approve' | 'refuse';
      reasons: string[];
    }
  | { type: 'job.approved'; jobId: string; approvedBy: string[] }
  | { type: 'job.refused'; jobId: string; refusedBy: string[] }
  | { type: 'job.queued'; jobId: string; party: number; reason: string }
  | {
      type: 'job.started';
      jobId: string;
      party: number;
      parties: string[];
      meshGeneration: number;
      resumeFrom: number | null;
    }
  | { type: 'job.progress'; jobId: string; epoch: number; epochs: number; loss: number | null }
  /** A training job's inputs are shared (and standardized): `ms` after its start. */
  | { type: 'job.phase'; jobId: string; phase: 'inputs'; ms: number }
  /** Training progress within an epoch (0-based `epoch`): step `step` of `steps` done (throttled). */
  | { type: 'job.step'; jobId: string; epoch: number; epochs: number; step: number; steps: number }
  | {
      type: 'job.epoch';
      jobId: string;
      epoch: number;
      rounds: number;
      /** Wall time of the epoch (ms). */
      ms: number;
      bytesSent: number;
      bytesReceived: number;
      /** Per peer: payload bytes and a SHA-256 over the hashes of the messages sent to / received from it this epoch. */
      pairs: {
        peer: string;
        sent: { messages: number; bytes: number; digest: string };
        received: { messages: number; bytes: number; digest: string };
      }[];
      /**
       * Loss of the epoch (the opened mean), with `validation`: the validation loss, which replaces the
       * pass over the training set when the spec has a validation set.
       */
      loss?: number | null;
      /** With a validation set in the spec: the aggregates opened after the epoch (src/runtime/train-job.ts). */
      validation?: {
        epoch: number;
        loss: number;
        accuracy: number;
        precision?: number;
        recall?: number;
        f1?: number;
        auc?: number;
        rows: number;
      };
    }
  | { type: 'job.checkpoint'; jobId: string; epoch: number; digest: string; bytes: number }
  | { type: 'job.paused'; jobId: string; reason: string; lastCheckpoint: number | null }
  | { type: 'job.resumed'; jobId: string; fromEpoch: number; stateDigest: string; meshGeneration: number }
  | { type: 'job.failed'; jobId: string; code: string; message: string }
  | {
      type: 'job.done';
      jobId: string;
      seconds: number;
      rounds: number;
      bytesSent: number;
      metrics: Record<string, unknown>;
    }
  | { type: 'output.delivered'; jobId: string; recipient: string; digest: string; bytes: number }
  | { type: 'output.refused'; jobId: string; requester: string; reason: string }
  | { type: 'mesh.up'; generation: number; parties: string[] }
  | { type: 'mesh.down'; generation: number; reason: string };

export type TimedEvent = AuditEvent & { at: string };

/** Patterns that must never appear in an event (checked on emit; a match is a bug, so it throws). */
const SECRET_RE = /-----BEGIN [A-Z ]*PRIVATE KEY-----|postgres(ql)?:\/\/[^@\s]*:[^@\s]*@/;

export class EventBus {
  readonly #em = new EventEmitter();

  constructor() {
    this.#em.setMaxListeners(0);
  }

  emit(e: AuditEvent): TimedEvent {
    const t = { ...e, at: new Date().toISOString() };
    if (SECRET_RE.test(JSON.stringify(t)))
      throw new Error(`refusing to emit a ${e.type} event containing a secret`);
    this.#em.emit('event', t);
    return t;
  }

  on(fn: (e: TimedEvent) => void): () => void {
    this.#em.on('event', fn);
    return () => this.#em.off('event', fn);
  }
}
