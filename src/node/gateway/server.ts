/**
 * The node's gateway: one HTTPS server (fastify) with mutual TLS 1.3 for both the other members and
 * the operator's API clients. The handshake accepts only the current roster members' certificates
 * (not revoked) and the configured operator certificates; the trust list is replaced whenever the
 * roster changes, and open connections of a certificate that is no longer trusted are closed.
 *
 * Routes (docs/platform.md): GET /health, GET /metrics, GET /api/roster, GET /api/roster/chain,
 * POST /api/roster, GET /api/datasets, POST /api/datasets, GET /api/jobs, GET /api/jobs/:id,
 * POST /api/jobs, POST /api/jobs/:id/decide, POST /api/jobs/:id/decisions, GET /api/events (WebSocket);
 * the audit ledger's GET /v1/ledger/{logs,entries,checkpoint,checkpoints,status,verify} and the
 * members' POST /v1/ledger/{cosign,checkpoint,hello} (ledger-sync.ts).
 */
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { pino, type Logger } from 'pino';
import { ShareholdError, isShareholdError } from '../../errors.js';
import { normalizeFingerprint } from '../../net/certs.js';
import type { Member, MemberTls, SignedApproval, SignedRoster } from '../../consortium/index.js';
import { apiRequest } from '../client.js';
import type { Broadcast, Caller, ShareholdNode } from '../node.js';
import type { Orchestrator } from '../orchestrator.js';
import { NodeMetrics } from './metrics.js';
import { LedgerSync, type LedgerSyncOptions } from '../ledger-sync.js';

export interface GatewayOptions {
  /** Structured logger (default: pino at info on stdout). Never receives a key or a dataset value. */
  logger?: Logger;
  /** Listen address (default the config's). Port 0 picks a free port. */
  host?: string;
  port?: number;
  /** Retries of a failed push to a member (default 4) and the first backoff in ms (default 250, doubling). */
  pushRetries?: number;
  pushBackoffMs?: number;
  /** The node's orchestrator: job outputs and run status (routes answer 404 without one). */
  orchestrator?: Orchestrator;
  /** Audit ledger replication and checkpoints (ledger-sync.ts); `false`: no ledger routes. */
  ledger?: LedgerSyncOptions | false;
}

export interface Gateway {
  metrics: NodeMetrics;
  /** The bound address, e.g. https://127.0.0.1:40123. */
  url: string;
  /** Wait until every pending push to other members has finished (tests, shutdown). */
  settle(): Promise<void>;
  /** The audit ledger's replication and checkpoints, unless disabled. */
  ledger: LedgerSync | null;
  close(): Promise<void>;
}

const callers = new WeakMap<object, Caller>();
function callerOf(req: FastifyRequest): Caller {
  const c = callers.get(req.raw);
  if (!c) throw new HttpError(403, 'client certificate not trusted');
  return c;
}

function peerFingerprint(socket: Socket | TLSSocket): string | undefined {
  const s = socket as TLSSocket;
  if (typeof s.getPeerCertificate !== 'function') return undefined;
  const c = s.getPeerCertificate();
  return c?.fingerprint256 ? normalizeFingerprint(c.fingerprint256) : undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(e: ShareholdError): number {
  if (e.details.notFound === true) return 404;
  switch (e.code) {
    case 'policy-refused':
      return 409;
    case 'signature-invalid':
    case 'quorum-missing':
      return 422;
    default:
      return 400;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Build and start the gateway of `node`. */
export async function startGateway(node: ShareholdNode, opts: GatewayOptions = {}): Promise<Gateway> {
  const logger = opts.logger ?? pino({ name: `sharehold-node:${node.name}` });
  const metrics = new NodeMetrics(node.name);
  const tlsOptions = () => ({
    key: node.keys.tlsKeyPem,
    cert: node.keys.tlsCertPem,
    ca: node.trustedClientCerts(),
  });
  const app = Fastify({
    loggerInstance: logger,
    https: {
      ...tlsOptions(),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    },
    bodyLimit: 4 * 1024 * 1024,
  });
  const server = app.server as unknown as import('node:tls').Server;
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (s: TLSSocket) => {
    const fp = peerFingerprint(s);
    // The CA list already limits the handshake; this is the identity check by fingerprint.
    if (!fp || !node.callerOf(fp)) {
      metrics.handshakeRefusals.inc({ reason: 'not-a-member' });
      node.bus.emit({ type: 'peer.refused', reason: 'certificate not in the roster or revoked' });
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (err: Error) => {
    const code = 'code' in err && typeof err.code === 'string' ? err.code : 'tls-error';
    metrics.handshakeRefusals.inc({ reason: code });
    logger.warn({ event: 'peer.refused', code }, 'TLS handshake refused');
    node.bus.emit({ type: 'peer.refused', reason: code });
  });
  node.onRosterChange(() => {
    server.setSecureContext(tlsOptions());
    metrics.rosterVersion.set(node.roster?.current.version ?? 0);
    for (const s of sockets) {
      const fp = peerFingerprint(s);
      if (!fp || !node.callerOf(fp)) s.destroy();
    }
  });
  metrics.rosterVersion.set(node.roster?.current.version ?? 0);
  node.bus.on((e) => {
    logger.info({ event: e }, e.type);
    metrics.events.inc({ type: e.type });
  });

  // Pushes to the other members. A connection failure, a 404 (the peer has not seen the job yet)
  // or a 5xx is retried with exponential backoff (opts.pushRetries times, from opts.pushBackoffMs);
  // other refusals are final. Everything is logged and counted.
  const pending = new Set<Promise<void>>();
  const retries = opts.pushRetries ?? 4;
  const backoff = opts.pushBackoffMs ?? 250;
  let closing = false;
  const stopRetries = new AbortController();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        stopRetries.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      stopRetries.signal.addEventListener('abort', onAbort, { once: true });
    });
  const pushOne = async (m: Member & { tls: MemberTls }, path: string, body: unknown): Promise<void> => {
    const tls = {
      key: node.keys.tlsKeyPem,
      cert: node.keys.tlsCertPem,
      ca: m.tls.certPem,
      fingerprint: m.tls.fingerprint,
    };
    for (let attempt = 0; ; attempt++) {
      let retryable: boolean;
      try {
        const r = await apiRequest(m.endpoint, 'POST', path, tls, body);
        if (r.status < 300) {
          metrics.pushes.inc({ outcome: 'ok' });
          return;
        }
        retryable = r.status === 404 || r.status >= 500;
        logger.warn({ peer: m.name, path, status: r.status, body: r.body, attempt }, 'peer refused a push');
      } catch (e) {
        retryable = true;
        logger.warn(
          { peer: m.name, path, code: isShareholdError(e) ? e.code : 'error', attempt },
          'push to peer failed',
        );
      }
      if (!retryable || attempt >= retries || closing) {
        metrics.pushes.inc({ outcome: retryable ? 'failed' : 'refused' });
        return;
      }
      metrics.pushes.inc({ outcome: 'retried' });
      await sleep(backoff * 2 ** attempt);
    }
  };
  const push = (path: string, body: unknown): void => {
    const roster = node.roster?.current;
    if (!roster) return;
    for (const m of roster.members) {
      if (m.name === node.name || !m.tls) continue;
      const p = pushOne({ ...m, tls: m.tls }, path, body).finally(() => pending.delete(p));
      pending.add(p);
    }
  };
  node.onBroadcast = (b: Broadcast) => {
    if (b.kind === 'proposal') push('/api/jobs', { id: b.jobId, specText: b.specText });
    else if (b.kind === 'decision')
      push(`/api/jobs/${encodeURIComponent(b.signed.body.jobId)}/decisions`, b.signed);
    else push('/api/roster', b.chain);
  };

  app.addHook('onRequest', async (req) => {
    const fp = peerFingerprint(req.raw.socket);
    const caller = fp ? node.callerOf(fp) : undefined;
    if (!caller) throw new HttpError(403, 'client certificate not trusted');
    callers.set(req.raw, caller);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ code: 'http', message: err.message });
    if (isShareholdError(err)) {
      const status = statusOf(err);
      req.log.info({ code: err.code, status }, 'request refused');
      return reply.code(status).send({
        code: err.code,
        message: err.message,
        ...(typeof err.details.reason === 'string' ? { reason: err.details.reason } : {}),
        ...(Array.isArray(err.details.problems) ? { problems: err.details.problems } : {}),
        ...(Array.isArray(err.details.issues) ? { issues: err.details.issues } : {}),
      });
    }
    const e = err as { statusCode?: number; code?: string };
    if (typeof e.statusCode === 'number' && e.statusCode < 500)
      return reply.code(e.statusCode).send({ code: e.code ?? 'http', message: (err as Error).message });
    req.log.error({ err: { name: (err as Error).name, code: e.code } }, 'internal error');
    return reply.code(500).send({ code: 'internal', message: 'internal error' });
  });
  const operatorOnly = (req: FastifyRequest): void => {
    if (callerOf(req).kind !== 'operator') throw new HttpError(403, 'operator client certificate required');
  };

  await app.register(websocket);

  app.get('/health', async () => ({
    status: 'ok',
    node: node.name,
    rosterVersion: node.roster?.current.version ?? null,
    store: node.store.kind,
  }));
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/api/roster', async () => {
    const r = node.roster;
    return r ? { version: r.current.version, hash: r.hash, roster: r.current } : { version: null };
  });
  app.get('/api/roster/chain', async () => node.rosterChain);
  app.post('/api/roster', async (req) => {
    if (!Array.isArray(req.body))
      throw new HttpError(400, 'body must be the roster chain (array of signed versions)');
    const before = node.roster?.current.version ?? 0;
    const v = await node.acceptRoster(req.body as SignedRoster[]);
    if (callerOf(req).kind === 'operator' && v.current.version > before)
      node.onBroadcast({ kind: 'roster', chain: node.rosterChain });
    return { version: v.current.version, hash: v.hash };
  });
  app.get('/api/datasets', async () => node.datasets());
  app.post('/api/datasets', async (req) => {
    operatorOnly(req);
    const b = req.body;
    if (!isObj(b) || typeof b.name !== 'string' || typeof b.file !== 'string' || !isObj(b.schema))
      throw new HttpError(400, 'body must be {name, file, schema: {columns, integerColumns}}');
    return node.registerDataset(b.name, b.file, b.schema as { columns: string[]; integerColumns?: string[] });
  });
  app.get('/api/jobs', async () =>
    (await node.jobs()).map((j) => ({
      id: j.id,
      name: j.name,
      state: j.state,
      proposer: j.proposer,
      specHash: j.specHash,
      rosterVersion: j.rosterVersion,
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
    })),
  );
  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (req) => node.job(req.params.id));
  app.post('/api/jobs', async (req, reply) => {
    const b = req.body;
    if (!isObj(b) || typeof b.specText !== 'string' || (b.id !== undefined && typeof b.id !== 'string'))
      throw new HttpError(400, 'body must be {specText, id?}');
    // The operator proposes as this node; a member's gateway forwards its own proposal.
    const proposer = callerOf(req).kind === 'operator' ? node.name : callerOf(req).name;
    const r = await node.propose(b.specText, proposer, b.id);
    return reply.code(201).send(r);
  });
  app.post<{ Params: { id: string } }>('/api/jobs/:id/decide', async (req) => {
    operatorOnly(req);
    return node.decide(req.params.id);
  });
  app.post<{ Params: { id: string } }>('/api/jobs/:id/decisions', async (req) => {
    const signed = req.body as SignedApproval;
    if (!isObj(signed) || !isObj(signed.body) || signed.body.jobId !== req.params.id)
      throw new HttpError(400, 'body must be a signed decision on this job');
    if (callerOf(req).kind === 'member' && signed.body.member !== callerOf(req).name)
      throw new HttpError(403, `${callerOf(req).name} may only forward its own decisions`);
    return node.submitDecision(signed);
  });
  app.get<{ Params: { id: string } }>('/api/jobs/:id/output', async (req, reply) => {
    if (!opts.orchestrator) throw new HttpError(404, 'this node runs no orchestrator');
    try {
      return await opts.orchestrator.output(req.params.id, callerOf(req));
    } catch (e) {
      if (isShareholdError(e) && e.details.reason === 'not-a-recipient')
        return reply.code(403).send({ code: e.code, message: e.message, reason: 'not-a-recipient' });
      throw e;
    }
  });
  app.get('/api/orchestrator', async () => {
    if (!opts.orchestrator) throw new HttpError(404, 'this node runs no orchestrator');
    return opts.orchestrator.status();
  });
  app.get('/api/events', { websocket: true }, (socket) => {
    const off = node.bus.on((e) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(e));
    });
    socket.on('close', off);
    socket.send(
      JSON.stringify({ type: 'hello', node: node.name, rosterVersion: node.roster?.current.version ?? null }),
    );
  });

  // ---- audit ledger (docs/ledger.md "Platform ledger", ledger-sync.ts) ----
  // Every trusted caller may read (entries hold nothing secret; members replicate them anyway); only
  // members offer checkpoints of their own logs. `log` defaults to this node's own log.
  const ledger =
    opts.ledger === false
      ? null
      : await LedgerSync.start(node, { log: (msg, data) => logger.info(data ?? {}, msg), ...opts.ledger });
  if (ledger) {
    type LedgerQuery = { Querystring: { log?: string; from?: string; to?: string } };
    const logOf = (q: { log?: string }): string =>
      typeof q.log === 'string' && q.log !== '' ? q.log : node.name;
    const intOf = (v: string | undefined, name: string, dflt?: number): number | undefined => {
      if (v === undefined || v === '') return dflt;
      if (!/^[0-9]{1,15}$/.test(v)) throw new HttpError(400, `${name} must be a non-negative integer`);
      return Number(v);
    };
    const memberOnly = (req: FastifyRequest): string => {
      const c = callerOf(req);
      if (c.kind !== 'member') throw new HttpError(403, 'only members offer checkpoints');
      return c.name;
    };
    app.get('/v1/ledger/logs', async () => ({ node: node.name, logs: await ledger.logs() }));
    app.get<LedgerQuery>('/v1/ledger/entries', async (req) =>
      ledger.entries(logOf(req.query), intOf(req.query.from, 'from', 0)!, intOf(req.query.to, 'to')),
    );
    app.get<LedgerQuery>('/v1/ledger/checkpoint', async (req) => ledger.checkpoint(logOf(req.query)));
    app.get<LedgerQuery>('/v1/ledger/checkpoints', async (req) => ledger.checkpoints(logOf(req.query)));
    app.get('/v1/ledger/status', async () => ledger.status());
    app.get('/v1/ledger/verify', async () => {
      const t0 = performance.now();
      const r = await ledger.verify();
      return { ...r, ms: Math.round(performance.now() - t0) };
    });
    // 503 (the writer retries) while this node shuts down or cannot reach the writer for its entries.
    const retryable = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (
          ledger.closed ||
          (isShareholdError(e) && ['peer-disconnected', 'peer-timeout', 'cert-refused'].includes(e.code))
        )
          throw new HttpError(503, `ledger unavailable: ${isShareholdError(e) ? e.code : 'shutting down'}`);
        throw e;
      }
    };
    app.post('/v1/ledger/cosign', async (req) =>
      retryable(() => ledger.cosign(memberOnly(req), isObj(req.body) ? req.body : {})),
    );
    app.post('/v1/ledger/hello', async (req) => ledger.hello(memberOnly(req)));
    app.post('/v1/ledger/checkpoint', async (req) =>
      retryable(() => ledger.receiveCheckpoint(memberOnly(req), isObj(req.body) ? req.body : {})),
    );
  }
  // ---- end audit ledger ----

  await (await import('./dashboard.js')).registerDashboard(app, node); // web dashboard (docs/dashboard.md)
  const url = await app.listen({
    host: opts.host ?? node.cfg.listen.host,
    port: opts.port ?? node.cfg.listen.port,
  });
  ledger?.announce(); // the other members offer their ledger checkpoints now that we listen
  node.bus.emit({
    type: 'node.started',
    node: node.name,
    endpoint: url,
    rosterVersion: node.roster?.current.version ?? null,
  });
  const settle = async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return {
    metrics,
    url,
    settle,
    ledger,
    close: async () => {
      closing = true;
      stopRetries.abort();
      await ledger?.close();
      await settle();
      for (const s of sockets) s.destroy();
      await app.close();
    },
  };
}
