/**
 * The node's web dashboard (docs/dashboard.md), served by the gateway on the same port and behind the
 * same mutual TLS 1.3 handshake as the API: only the operator certificates from the node's config and
 * the current roster members' certificates get a connection at all.
 *
 * Static files: `/` (web/index.html), `/app.js`, `/style.css`, and the chart library uPlot from
 * node_modules (`/vendor/uplot.js`, `/vendor/uplot.css`; no CDN).
 *
 * Read-only routes the page needs (any trusted caller):
 * - `GET /api/whoami`: this node, and whether the caller is its operator (the page enables actions).
 * - `GET /api/members/health`: every roster member with its reachability as this node sees it (its
 *   `/health` over mutual TLS with this node's member certificate, pinned to the roster's fingerprint).
 * - `GET /api/jobs/:id/events`: a job's stored events (decisions, progress…) for the page's history.
 * - `GET /api/ledger`: the node's ledger (entries, checkpoints with their cosignatures), if it has one.
 * - `POST /api/ledger/verify`: offline verification of the ledger's data directory (read-only).
 *
 * One operator-only action besides `POST /api/jobs/:id/decide` (server.ts): `POST /api/jobs/:id/refuse`
 * `{reason}`, a signed refusal with the operator's own reason, for a job the policy check would pass.
 *
 * The ledger shown is the node's own audit ledger, `ledger.sqlite` in its data directory (written by
 * the orchestrator, src/node/audit-ledger.ts; origin `sharehold.local/ledger/<node>`). Its checkpoints
 * are checked against a ledger roster derived from the consortium roster (`ledgerRosterOf`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TLSSocket } from 'node:tls';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { normalizeFingerprint } from '../../net/certs.js';
import { signDecision, specHash } from '../../consortium/index.js';
import { apiRequest } from '../client.js';
import type { Caller, ShareholdNode } from '../node.js';
import { ledgerRosterFor } from '../audit-ledger.js';
import { LedgerSync } from '../ledger-sync.js';
import {
  SqliteStorage,
  dataDirPaths,
  decodeEntry,
  inspectCheckpoint,
  toBase64,
  toHex,
  verifyDataDir,
  type Roster,
  type VerifyReport,
} from '../../ledger/index.js';

/** Where the page's files are: `web/` at the package root (this file is dist/src/node/gateway/). */
export const WEB_DIR = fileURLToPath(new URL('../../../../web/', import.meta.url));

/** The directory holding the node's audit ledger (`ledger.sqlite`): its data directory. */
export const ledgerDirOf = (node: ShareholdNode): string => node.cfg.dataDir;

/** The checkpoint origin of the node's audit ledger (as src/node/audit-ledger.ts opens it). */
export const ledgerOriginOf = (node: ShareholdNode): string => `sharehold.local/ledger/${node.name}`;

/**
 * Who signs for the node's ledger: the node itself as the log (its Ed25519 signing key), the current
 * consortium members (their roster signing keys) as cosigners, and a checkpoint counts with
 * `ledgerQuorum` cosignatures (audit-ledger.ts). Without a roster: the node alone, quorum 1.
 */
export function ledgerRosterOf(node: ShareholdNode): Roster {
  const r = node.roster?.current;
  if (r) return ledgerRosterFor(r, node.name); // quorum: audit-ledger.ts ledgerQuorum
  return {
    origin: ledgerOriginOf(node),
    log: node.name,
    quorum: 1,
    members: [{ name: node.name, publicKey: node.keys.signing.publicKey }],
  };
}

const require = createRequire(import.meta.url);

interface StaticFile {
  path: string;
  type: string;
}

const STATIC: Record<string, StaticFile> = {
  '/': { path: join(WEB_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { path: join(WEB_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { path: join(WEB_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uplot.js': {
    path: require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uplot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** Same-origin only, no inline script: the page's own files and its WebSocket. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function callerOf(node: ShareholdNode, socket: unknown): Caller {
  const s = socket as TLSSocket;
  const c = typeof s.getPeerCertificate === 'function' ? s.getPeerCertificate() : undefined;
  const caller = c?.fingerprint256 ? node.callerOf(normalizeFingerprint(c.fingerprint256)) : undefined;
  if (!caller) throw forbidden('client certificate not trusted');
  return caller;
}

/** An HTTP 403 through the gateway's error handler (as its operator-only routes answer). */
function forbidden(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 403, code: 'http' });
}

export interface MemberHealth {
  name: string;
  roles: string[];
  endpoint: string;
  self: boolean;
  /** Whether the member's certificate is currently usable (not revoked, present). */
  certificate: 'ok' | 'revoked' | 'none';
  reachable: boolean;
  /** The member's /health answer (status, node, rosterVersion, store), if reachable. */
  health?: { status: string; node: string; rosterVersion: number | null; store?: string };
  latencyMs?: number;
  /** Why it is not reachable (an error code, never a key). */
  error?: string;
}

/** Probe every roster member's /health over mutual TLS (this node's member identity), concurrently. */
export async function memberHealth(node: ShareholdNode, timeoutMs = 3000): Promise<MemberHealth[]> {
  const roster = node.roster?.current;
  if (!roster) return [];
  return Promise.all(
    roster.members.map(async (m): Promise<MemberHealth> => {
      const revoked = m.tls ? roster.revoked.includes(m.tls.fingerprint) : false;
      const base: MemberHealth = {
        name: m.name,
        roles: [...m.roles],
        endpoint: m.endpoint,
        self: m.name === node.name,
        certificate: !m.tls ? 'none' : revoked ? 'revoked' : 'ok',
        reachable: false,
      };
      if (base.self) {
        return {
          ...base,
          reachable: true,
          latencyMs: 0,
          health: {
            status: 'ok',
            node: node.name,
            rosterVersion: roster.version,
            store: node.store.kind,
          },
        };
      }
      if (!m.tls || revoked) return { ...base, error: 'no usable certificate' };
      const t0 = performance.now();
      try {
        const r = await apiRequest(
          m.endpoint,
          'GET',
          '/health',
          {
            key: node.keys.tlsKeyPem,
            cert: node.keys.tlsCertPem,
            ca: m.tls.certPem,
            fingerprint: m.tls.fingerprint,
          },
          undefined,
          timeoutMs,
        );
        const latencyMs = Math.round((performance.now() - t0) * 10) / 10;
        const b = r.body as Record<string, unknown> | null;
        if (r.status !== 200 || typeof b !== 'object' || b === null)
          return { ...base, latencyMs, error: `HTTP ${r.status}` };
        return {
          ...base,
          reachable: true,
          latencyMs,
          health: {
            status: String(b.status),
            node: String(b.node),
            rosterVersion: typeof b.rosterVersion === 'number' ? b.rosterVersion : null,
            ...(typeof b.store === 'string' ? { store: b.store } : {}),
          },
        };
      } catch (e) {
        return { ...base, error: e instanceof ShareholdError ? e.code : 'request failed' };
      }
    }),
  );
}

export interface LedgerView {
  available: boolean;
  origin?: string;
  log?: string;
  quorum?: number;
  members?: string[];
  size?: number;
  /** The latest entries (at most `limit`), newest last. */
  entries?: { index: number; leafHash: string; event: unknown }[];
  checkpoints?: {
    size: number;
    root: string;
    cosigners: string[];
    timestamps: Record<string, number>;
    quorum: number;
    quorumMet: boolean;
    error?: string;
  }[];
}

/** Read a ledger (`dir`/ledger.sqlite, read-only): the last `limit` entries and every checkpoint. */
export async function readLedger(dir: string, roster: Roster, limit = 200): Promise<LedgerView> {
  const p = dataDirPaths(dir);
  if (!existsSync(p.ledger)) return { available: false };
  const storage = new SqliteStorage(p.ledger, { readonly: true });
  try {
    const size = await storage.size();
    const rows = await storage.read(Math.max(0, size - limit), size);
    const entries = rows.map((r) => {
      let event: unknown;
      try {
        event = decodeEntry(r.entry, r.index).event;
      } catch (e) {
        event = { undecodable: e instanceof ShareholdError ? e.code : 'error' };
      }
      return { index: r.index, leafHash: toHex(r.leafHash), event };
    });
    const checkpoints = (await storage.checkpoints()).map((cp) => {
      try {
        const st = inspectCheckpoint(cp.note, roster);
        return {
          size: cp.size,
          root: toBase64(cp.root),
          cosigners: st.cosigners,
          timestamps: st.timestamps,
          quorum: st.quorum,
          quorumMet: st.quorumMet,
        };
      } catch (e) {
        return {
          size: cp.size,
          root: toBase64(cp.root),
          cosigners: [],
          timestamps: {},
          quorum: roster.quorum,
          quorumMet: false,
          error: e instanceof ShareholdError ? e.message : 'unreadable checkpoint',
        };
      }
    });
    return {
      available: true,
      origin: roster.origin,
      log: roster.log,
      quorum: roster.quorum,
      members: roster.members.map((m) => m.name),
      size,
      entries,
      checkpoints,
    };
  } finally {
    await storage.close();
  }
}

const staticHeaders = (f: StaticFile): Record<string, string> => ({
  'content-type': f.type,
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'content-security-policy': CSP,
});

/** Register the dashboard's static files and routes on the gateway's fastify app. */
export async function registerDashboard<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, L>,
  node: ShareholdNode,
): Promise<void> {
  for (const [url, f] of Object.entries(STATIC))
    app.get(url, async (_req, reply) => reply.headers(staticHeaders(f)).send(readFileSync(f.path)));

  app.get('/api/whoami', async (req) => {
    const c = callerOf(node, req.raw.socket);
    return { node: node.name, caller: c, operator: c.kind === 'operator' };
  });

  app.get('/api/members/health', async () => ({
    node: node.name,
    rosterVersion: node.roster?.current.version ?? null,
    members: await memberHealth(node),
  }));

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>(
    '/api/jobs/:id/events',
    async (req) => {
      const job = await node.store.getJob(req.params.id);
      if (!job)
        throw new ShareholdError('invalid-argument', `unknown job ${req.params.id}`, { notFound: true });
      const after = Number(req.query.after ?? 0);
      return node.store.events(job.id, Number.isSafeInteger(after) && after > 0 ? after : 0);
    },
  );

  app.post<{ Params: { id: string } }>('/api/jobs/:id/refuse', async (req) => {
    if (callerOf(node, req.raw.socket).kind !== 'operator')
      throw forbidden('operator client certificate required');
    const b = req.body as { reason?: unknown } | null;
    const reason = typeof b?.reason === 'string' ? b.reason.trim() : '';
    if (
      reason.length === 0 ||
      reason.length > 200 ||
      [...reason].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
    )
      throw invalidArgument('body must be {reason}: 1-200 characters, no control characters');
    const job = await node.store.getJob(req.params.id);
    if (!job)
      throw new ShareholdError('invalid-argument', `unknown job ${req.params.id}`, { notFound: true });
    const roster = node.roster;
    if (!roster) throw invalidArgument('this node has no consortium roster yet');
    if (job.rosterVersion !== roster.current.version)
      throw new ShareholdError(
        'policy-refused',
        `job ${job.id} was proposed under roster version ${job.rosterVersion}, current is ${roster.current.version}: propose it again`,
        { reason: 'other-roster' },
      );
    if (specHash(job.specText) !== job.specHash) throw invalidArgument('stored spec does not match its hash');
    const signed = signDecision(
      node.keys.signing,
      { roster: roster.current, rosterHash: roster.hash, jobId: job.id, specHash: job.specHash },
      'refuse',
      [`refused by the operator: ${reason}`],
    );
    const quorum = await node.submitDecision(signed);
    node.onBroadcast({ kind: 'decision', signed });
    return { signed, quorum };
  });

  app.get('/api/ledger', async () => readLedger(ledgerDirOf(node), ledgerRosterOf(node)));

  app.post(
    '/api/ledger/verify',
    async (): Promise<(VerifyReport & { ms: number }) | { available: false } | object> => {
      const dir = ledgerDirOf(node);
      if (!existsSync(dataDirPaths(dir).ledger)) return { available: false };
      const t0 = performance.now();
      // Every log the node holds (its own and the replicas; ledger-verify.ts), when the gateway runs
      // the ledger sync; the report keeps the own log's fields at the top level.
      const sync = node.roster ? LedgerSync.of(node) : undefined;
      if (sync) return { ...(await sync.verify()), ms: Math.round(performance.now() - t0) };
      const report = await verifyDataDir(dir, { roster: ledgerRosterOf(node) });
      const ms = Math.round(performance.now() - t0);
      // The node's local paths are not shown to callers: the directory is named `ledger`.
      const shown = JSON.parse(
        JSON.stringify(report).split(JSON.stringify(dir).slice(1, -1)).join('ledger'),
      ) as VerifyReport;
      return { ...shown, ms };
    },
  );
}
