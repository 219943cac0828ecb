import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CONTROLLER_METRICS } from './api/metrics.js';

/** The controller's Prometheus metrics; names come from api/metrics.ts, which the alerts also read. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'plinth_controller_' });
  return {
    registry,
    reconcileDuration: new Histogram({
      name: CONTROLLER_METRICS.reconcileDuration,
      help: 'Time to reconcile one run, by result.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: CONTROLLER_METRICS.queueDepth,
      help: 'Runs waiting to be reconciled.',
      registers: [registry],
    }),
    runsByPhase: new Gauge({
      name: CONTROLLER_METRICS.runsByPhase,
      help: 'Runs by namespace and lifecycle phase.',
      labelNames: ['namespace', 'phase'],
      registers: [registry],
    }),
    oldestPending: new Gauge({
      name: CONTROLLER_METRICS.oldestPendingSeconds,
      help: 'Age of the oldest run not yet running (queued, unschedulable, created), by namespace.',
      labelNames: ['namespace'],
      registers: [registry],
    }),
  };
}
export type ControllerMetrics = ReturnType<typeof createMetrics>;
