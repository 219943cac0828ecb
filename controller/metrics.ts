import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import packageJson from '../package.json' with { type: 'json' };
import { CONTROLLER_METRICS } from './api/metrics.js';
import { RECONCILE_RESULTS, type ControllerLoopMetrics } from './runtime/controller-loop.js';
import type { LeaderElectionMetrics } from './runtime/leader-election.js';
import type { WorkQueueMetrics } from './runtime/work-queue.js';

/** controller-runtime's reconcile-time buckets: the same quantiles on the same dashboards. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's work-queue buckets: from 10 ns to 1000 s, by tens. */
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

type InProgress = Parameters<WorkQueueMetrics['inProgress']>[0];

/**
 * The controller's Prometheus metrics; names come from api/metrics.ts, which the alerts also read.
 * The runtime reports through its hooks (controllerLoop, workQueue, leaderElection), labelled
 * as controller-runtime labels them.
 */
export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  // Unprefixed, as every Prometheus client names them: process_cpu_seconds_total and the like.
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: CONTROLLER_METRICS.buildInfo,
    help: 'Always 1; the labels say which controller version runs on which Node.js.',
    labelNames: ['version', 'node_version'],
    registers,
  }).set({ version: packageJson.version, node_version: process.version }, 1);

  const reconcileTotal = new Counter({
    name: CONTROLLER_METRICS.reconcileTotal,
    help: 'Reconciles done, by controller and result.',
    labelNames: ['controller', 'result'],
    registers,
  });
  const reconcileErrors = new Counter({
    name: CONTROLLER_METRICS.reconcileErrors,
    help: 'Reconciles that failed, by controller.',
    labelNames: ['controller'],
    registers,
  });
  const reconcileTime = new Histogram({
    name: CONTROLLER_METRICS.reconcileTime,
    help: 'Time to reconcile one key, by controller.',
    labelNames: ['controller'],
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const maxConcurrentReconciles = new Gauge({
    name: CONTROLLER_METRICS.maxConcurrentReconciles,
    help: 'Reconciles a controller may run at once: its workers.',
    labelNames: ['controller'],
    registers,
  });
  const activeWorkers = new Gauge({
    name: CONTROLLER_METRICS.activeWorkers,
    help: 'Workers reconciling now, by controller.',
    labelNames: ['controller'],
    registers,
  });

  // controller-runtime labels a controller's queue with its name twice, as name and controller.
  const queueLabels = ['name', 'controller'] as const;
  const queueDepth = new Gauge({
    name: CONTROLLER_METRICS.queueDepth,
    help: 'Keys waiting for a worker.',
    labelNames: queueLabels,
    registers,
  });
  const queueAdds = new Counter({
    name: CONTROLLER_METRICS.queueAdds,
    help: 'Keys added to the queue (a key already waiting is not added again).',
    labelNames: queueLabels,
    registers,
  });
  const queueDuration = new Histogram({
    name: CONTROLLER_METRICS.queueDuration,
    help: 'Seconds a key waits in the queue before a worker takes it.',
    labelNames: queueLabels,
    buckets: QUEUE_BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: CONTROLLER_METRICS.workDuration,
    help: 'Seconds a worker holds a key.',
    labelNames: queueLabels,
    buckets: QUEUE_BUCKETS,
    registers,
  });
  const queueRetries = new Counter({
    name: CONTROLLER_METRICS.queueRetries,
    help: 'Keys re-added after a delay: retries of failures, and requeues after some time.',
    labelNames: queueLabels,
    registers,
  });
  // Work in progress is read from each queue when Prometheus scrapes, rather than polled.
  const inProgress = new Map<string, InProgress>();
  new Gauge({
    name: CONTROLLER_METRICS.unfinishedWork,
    help: 'Seconds held so far by every key in progress together; a steady rise means a stuck worker.',
    labelNames: queueLabels,
    registers,
    collect() {
      for (const [name, read] of inProgress) this.set({ name, controller: name }, read().totalSeconds);
    },
  });
  new Gauge({
    name: CONTROLLER_METRICS.longestRunningProcessor,
    help: 'Seconds the longest-held key in progress has been held.',
    labelNames: queueLabels,
    registers,
    collect() {
      for (const [name, read] of inProgress) this.set({ name, controller: name }, read().longestSeconds);
    },
  });

  const leaderStatus = new Gauge({
    name: CONTROLLER_METRICS.leaderStatus,
    help: '1 while this replica holds the lease named by name, 0 while it stands by.',
    labelNames: ['name'],
    registers,
  });

  return {
    registry,
    runsByPhase: new Gauge({
      name: CONTROLLER_METRICS.runsByPhase,
      help: 'Runs by namespace and lifecycle phase.',
      labelNames: ['namespace', 'phase'],
      registers,
    }),
    oldestPending: new Gauge({
      name: CONTROLLER_METRICS.oldestPendingSeconds,
      help: 'Age of the oldest run not yet running (queued, unschedulable, created), by namespace.',
      labelNames: ['namespace'],
      registers,
    }),
    runsDeletedByRetention: new Counter({
      name: CONTROLLER_METRICS.runsDeletedByRetention,
      help: 'Top-level runs deleted because they finished longer ago than runs.retention, by namespace.',
      labelNames: ['namespace'],
      registers,
    }),
    logLinesArchived: new Counter({
      name: CONTROLLER_METRICS.logLinesArchived,
      help: "Lines of run pods' logs written to the archive, counted once a pod's logs are archived to their end.",
      registers,
    }),

    /** The reconcile metrics of the controller named `controller`. */
    controllerLoop(controller: string): ControllerLoopMetrics {
      // As controller-runtime does, every series exists from the start: a rate over it never
      // misses its first increase.
      for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ controller, result }, 0);
      reconcileErrors.inc({ controller }, 0);
      return {
        workers: (count) => maxConcurrentReconciles.set({ controller }, count),
        activeWorkers: (count) => activeWorkers.set({ controller }, count),
        reconciled(result, seconds) {
          reconcileTotal.inc({ controller, result });
          if (result === 'error') reconcileErrors.inc({ controller });
          reconcileTime.observe({ controller }, seconds);
        },
      };
    },

    /** The metrics of the work queue named `name`. */
    workQueue(name: string): WorkQueueMetrics {
      const labels = { name, controller: name };
      queueDepth.set(labels, 0);
      queueAdds.inc(labels, 0);
      queueRetries.inc(labels, 0);
      return {
        depth: (keys) => queueDepth.set(labels, keys),
        added: () => queueAdds.inc(labels),
        waited: (seconds) => queueDuration.observe(labels, seconds),
        worked: (seconds) => workDuration.observe(labels, seconds),
        retried: () => queueRetries.inc(labels),
        inProgress: (read) => void inProgress.set(name, read),
      };
    },

    leaderElection: {
      leading: (lease, isLeader) => leaderStatus.set({ name: lease }, isLeader ? 1 : 0),
    } satisfies LeaderElectionMetrics,
  };
}
export type ControllerMetrics = ReturnType<typeof createMetrics>;
