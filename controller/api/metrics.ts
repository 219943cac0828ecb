/** Metric names the controller exports; the monitoring rules refer to them from here. */
export const CONTROLLER_METRICS = {
  runsByPhase: 'plinth_runs',
  oldestPendingSeconds: 'plinth_run_oldest_pending_seconds',
  reconcileDuration: 'plinth_reconcile_duration_seconds',
  queueDepth: 'plinth_workqueue_depth',
} as const;

/** Ports the controller listens on. */
export const CONTROLLER_PORTS = { metrics: 8080, health: 8081 } as const;
