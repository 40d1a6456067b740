import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metric names that controller-runtime dashboards already know, plus podfence's own profile gauge. */
export interface ControllerMetrics {
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileTime: Histogram<'controller'>;
  queueDepth: Gauge<'name'>;
  profiles: Gauge<'state'>;
  leader: Gauge<'name'>;
}

export function controllerMetrics(registry: Registry): ControllerMetrics {
  return {
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller and result',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of the work queue',
      labelNames: ['name'],
      registers: [registry],
    }),
    profiles: new Gauge({
      name: 'podfence_profiles',
      help: 'SandboxProfiles by the reason of their Ready condition',
      labelNames: ['state'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'leader_election_master_status',
      help: 'Whether this replica is the leader (1) or not (0)',
      labelNames: ['name'],
      registers: [registry],
    }),
  };
}
