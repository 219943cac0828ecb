/**
 * Metric names the controller exports; the monitoring rules refer to them from here. Those of its
 * loop, work queue and leader election are controller-runtime's and client-go's, so that the
 * dashboards and alerts platform teams run for Kubebuilder operators read this controller too.
 */
export const CONTROLLER_METRICS = {
  runsByPhase: 'plinth_runs',
  oldestPendingSeconds: 'plinth_run_oldest_pending_seconds',
  runsDeletedByRetention: 'plinth_runs_deleted_by_retention_total',
  logLinesArchived: 'plinth_log_lines_archived_total',
  buildInfo: 'plinth_controller_build_info',
  reconcileTotal: 'controller_runtime_reconcile_total',
  reconcileErrors: 'controller_runtime_reconcile_errors_total',
  reconcileTime: 'controller_runtime_reconcile_time_seconds',
  maxConcurrentReconciles: 'controller_runtime_max_concurrent_reconciles',
  activeWorkers: 'controller_runtime_active_workers',
  queueDepth: 'workqueue_depth',
  queueAdds: 'workqueue_adds_total',
  queueDuration: 'workqueue_queue_duration_seconds',
  workDuration: 'workqueue_work_duration_seconds',
  queueRetries: 'workqueue_retries_total',
  unfinishedWork: 'workqueue_unfinished_work_seconds',
  longestRunningProcessor: 'workqueue_longest_running_processor_seconds',
  leaderStatus: 'leader_election_master_status',
} as const;

/**
 * The Run controller's name: the `controller` label of its reconcile metrics, and the `name` of its
 * work queue's, as controller-runtime names a controller after its kind.
 */
export const RUN_CONTROLLER_NAME = 'run';

/** The controller of parent runs (sweeps, DAGs, schedules), named the same way. */
export const PARENT_CONTROLLER_NAME = 'parent-run';

/** The collector of finished runs past the platform's retention, named the same way. */
export const RETENTION_CONTROLLER_NAME = 'run-retention';

/** The archiver of run pods' logs, named the same way. */
export const LOG_ARCHIVER_NAME = 'run-logs';

/** The tracker of runs' MLflow runs, named the same way. */
export const RUN_TRACKER_NAME = 'run-tracking';

/** Ports the controller listens on. */
export const CONTROLLER_PORTS = { metrics: 8080, health: 8081 } as const;
