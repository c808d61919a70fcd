/** Prometheus metrics of one node (prom-client), in a registry of its own so nodes do not mix. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status'>;
  readonly handshakeRefusals: Counter<'reason'>;
  readonly events: Counter<'type'>;
  readonly pushes: Counter<'outcome'>;
  readonly rosterVersion: Gauge;

  constructor(node: string) {
    this.registry.setDefaultLabels({ node });
    collectDefaultMetrics({ register: this.registry, prefix: 'sharehold_' });
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'sharehold_http_requests_total',
      help: 'API requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.handshakeRefusals = new Counter({
      name: 'sharehold_tls_refusals_total',
      help: 'TLS clients refused at the handshake (unknown or revoked certificate)',
      labelNames: ['reason'],
      registers,
    });
    this.events = new Counter({
      name: 'sharehold_audit_events_total',
      help: 'Audit events emitted, by type',
      labelNames: ['type'],
      registers,
    });
    this.pushes = new Counter({
      name: 'sharehold_peer_pushes_total',
      help: 'Proposals, decisions and roster versions sent to other members, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.rosterVersion = new Gauge({
      name: 'sharehold_roster_version',
      help: 'Current consortium roster version (0: none)',
      registers,
    });
  }
}
