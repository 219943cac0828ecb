/**
 * Every reason a run's status or condition can give, as an API constant with what it means. The
 * controller's diagnosis, status, admission, validity and pacing import them; the README's table
 * of reasons is generated from them (`npm run docs`), so what a user reads is what the code says.
 *
 * A reason is one CamelCase word. Where the kubelet ends a container with a reason of its own
 * (`Error`, `OOMKilled`, `ContainerCannotRun`, ...), that word is passed through as given.
 */

/** Which part of the platform a reason comes from; the README groups reasons by it. */
export type ReasonSource = 'admission' | 'validity' | 'workload' | 'scheduler' | 'container' | 'lifecycle';

interface ReasonDoc {
  readonly source: ReasonSource;
  /** What the reason means for a user, and what to do about it where something can be done. */
  readonly doc: string;
}

const reasons = <T extends Record<string, ReasonDoc>>(table: T) => table;

export const RUN_REASONS = reasons({
  // Admission: the team's queue.
  WaitingForQuota: {
    source: 'admission',
    doc: "waits for the team's concurrent-run or GPU quota (FIFO per team): `waiting for quota: team vision uses 16/16 GPUs`",
  },
  ExceedsQuota: { source: 'admission', doc: "asks for more GPUs than the team's whole quota: it can never start" },
  QuotaAvailable: { source: 'admission', doc: 'condition `Admitted`: the run fits in its team quota' },

  // Validity: the run can never start as written (the platform config may have changed since).
  NotATeamNamespace: { source: 'validity', doc: 'the run was submitted outside every team namespace' },
  PoolNotAllowed: { source: 'validity', doc: "the team may not use the run's pool (`teams[].pools`)" },
  NoSuitablePool: {
    source: 'validity',
    doc: 'the run names no pool, and its team has no GPU pool (for a run asking for GPUs) or no default pool',
  },
  UnknownConnection: { source: 'validity', doc: 'the run names a connection the platform no longer defines' },
  ConnectionNotAllowed: {
    source: 'validity',
    doc: 'the team may not use a connection the run names (`teams[].connections`)',
  },
  GpuPoolWithoutGpu: {
    source: 'validity',
    doc: 'the run goes to a GPU pool but none of its containers asks for `nvidia.com/gpu`: GPU nodes are for GPU work',
  },
  PriorityClassNotAllowed: {
    source: 'validity',
    doc: 'the team may not use the priority class the run names (`teams[].priorityClasses`), or the platform no longer defines it',
  },
  ServiceAccountNotAllowed: {
    source: 'validity',
    doc: 'the team may not run as the account the run names (`teams[].serviceAccounts`)',
  },
  OutputsSourceNotFound: {
    source: 'validity',
    doc: 'spec.resumeFrom or spec.copyFrom names a run that is not in the namespace; name a run of the team, or give the uid of one whose outputs are kept',
  },
  OutputsSourceNotAllowed: {
    source: 'validity',
    doc: "spec.resumeFrom or spec.copyFrom names another team's run, or the platform's store keeps no copies of outputs (an S3 store does)",
  },
  NotSupported: {
    source: 'validity',
    doc: 'the run is a sweep (`spec.matrix`), a DAG or a schedule, which the API checks but this version of the controller does not run yet',
  },

  // The workload the run's kind makes: a Job, a Deployment.
  Admitted: { source: 'workload', doc: 'admitted; the controller is creating its workload' },
  WorkloadCreated: { source: 'workload', doc: 'the workload exists; its controller has not made the pod yet' },
  QuotaExceeded: { source: 'workload', doc: "the namespace's ResourceQuota refused the pod" },
  FailedCreate: { source: 'workload', doc: "the workload's controller could not create a pod, with its message" },
  Completing: { source: 'workload', doc: 'the pod succeeded; the Job controller is recording it' },
  Retrying: { source: 'workload', doc: 'a pod failed and the Job tries again (`termination.maxRetries`)' },
  DeadlineExceeded: { source: 'workload', doc: 'the run exceeded `termination.timeout`' },
  Failed: { source: 'workload', doc: 'the workload failed and no container said why' },
  InvalidWorkload: {
    source: 'workload',
    doc: 'the API server refused the workload, naming the field: fix the run and submit it again (never retried)',
  },

  // The scheduler's verdict, named from the nodes the pod may go to: those its selector and required
  // node affinity pick, whose taints it tolerates. Other pools' taints are never the cause.
  WaitingForScheduler: { source: 'scheduler', doc: 'the scheduler has not placed the pod yet' },
  NodeProvisioning: {
    source: 'scheduler',
    doc: "no node can take the pod yet, and the cluster autoscaler is adding one it fits on (its `TriggeredScaleUp` event): the run starts once the node joins. Where the autoscaler will not add one, the scheduler's reason stands, with the autoscaler's word appended",
  },
  Scheduled: { source: 'scheduler', doc: 'the pod is on a node; its containers have not started' },
  NotScheduled: { source: 'scheduler', doc: 'condition `Scheduled`: no pod of the run is on a node' },
  InsufficientGPU: { source: 'scheduler', doc: 'no node has enough free `nvidia.com/gpu` for the pod' },
  InsufficientCPU: { source: 'scheduler', doc: 'no node has enough free CPU for the pod' },
  InsufficientMemory: { source: 'scheduler', doc: 'no node has enough free memory for the pod' },
  UntoleratedTaint: { source: 'scheduler', doc: 'every node the pod selects carries a taint it does not tolerate' },
  NoMatchingNode: {
    source: 'scheduler',
    doc: "no node has the labels the pod's selector asks for and meets its required node affinity",
  },
  NodePodsFull: {
    source: 'scheduler',
    doc: 'the nodes the pod may go to hold as many pods as they allow (`Too many pods`), whatever CPU or GPUs they have free',
  },
  BlockedByAntiAffinity: {
    source: 'scheduler',
    doc: 'a pod on the nodes the pod may go to has a required anti-affinity (`environment.affinity`) that keeps it away',
  },
  PodAffinityConflict: {
    source: 'scheduler',
    doc: "the pod's own required pod affinity or anti-affinity (`environment.affinity`) rules out every node it may go to",
  },
  VolumeClaimNotFound: { source: 'scheduler', doc: "a connection's volume claim does not exist in the team namespace" },
  VolumeClaimUnbound: { source: 'scheduler', doc: "a connection's volume claim has no volume yet" },
  Unschedulable: { source: 'scheduler', doc: 'no node can take the pod, for a reason the scheduler gave' },

  // Containers, as the kubelet reports them.
  ContainerCreating: { source: 'container', doc: 'the containers are being created' },
  ContainersNotReady: { source: 'container', doc: 'the containers run but are not ready' },
  ImagePullError: { source: 'container', doc: "an image cannot be pulled, with the kubelet's message" },
  CrashLoopBackOff: { source: 'container', doc: 'a container keeps crashing and is restarted with back-off' },
  OOMKilled: { source: 'container', doc: 'a container exceeded its memory limit: raise the limit' },
  CreateContainerConfigError: {
    source: 'container',
    doc: 'a container cannot be configured, e.g. a Secret or ConfigMap it reads as env is missing',
  },
  CreateContainerError: { source: 'container', doc: 'the runtime could not create a container' },
  MountFailed: {
    source: 'container',
    doc: "the kubelet's `FailedMount` event: a Secret, ConfigMap or claim the pod mounts is missing",
  },

  // The run's lifecycle.
  Running: { source: 'lifecycle', doc: 'every pod the run needs is running and ready' },
  Completed: { source: 'lifecycle', doc: 'the run succeeded' },
  Stopping: { source: 'lifecycle', doc: '`spec.stopped` is set; pods are still terminating' },
  Stopped: { source: 'lifecycle', doc: 'stopped by request; every pod is gone' },
  NotFinished: { source: 'lifecycle', doc: 'condition `Finished`: the run has not finished' },
  LogsIncomplete: {
    source: 'lifecycle',
    doc: "condition `LogsComplete`: some of the run's logs could not be archived: an instance the kubelet no longer kept, or a pod whose logs were not finished within 10 minutes of its deletion",
  },
  TrackingLinked: {
    source: 'lifecycle',
    doc: 'condition `Tracked`: the run has its MLflow run (`status.tracking`), whose id its containers get as `MLFLOW_RUN_ID` unless it was made after they started',
  },
  TrackingUnavailable: {
    source: 'lifecycle',
    doc: 'condition `Tracked`: the tracking server did not answer within `tracking.waitSeconds`, and the run started without an MLflow run; the controller makes and links one once the server answers',
  },
  TrackingRecorded: {
    source: 'lifecycle',
    doc: "condition `Tracked`: the run has finished and its MLflow run's status says how (FINISHED, FAILED or KILLED)",
  },
  RetentionExpired: {
    source: 'lifecycle',
    doc: 'the Event of a top-level run deleted, with everything it owns, `runs.retention` after it finished',
  },
});

export type RunReason = keyof typeof RUN_REASONS;

/** Each key of a table as a constant of its own name, so that a typo does not compile. */
const namesOf = <T extends object>(table: T) =>
  Object.fromEntries(Object.keys(table).map((k) => [k, k])) as { readonly [K in keyof T]: K };

/** The reason constants: code says `REASON.WaitingForQuota`. */
export const REASON = namesOf(RUN_REASONS);

/** What the README says of each source of reasons. */
export const REASON_SOURCES: Readonly<Record<ReasonSource, string>> = {
  admission: "the team's quota",
  validity: 'the run can never start as written',
  workload: "the workload the run's kind makes",
  scheduler: "the scheduler's verdict on the pod",
  container: 'the containers, as the kubelet reports them',
  lifecycle: "the run's lifecycle",
};

/** The conditions of a run's status, each with what True means; all but LogsComplete and Tracked are always there. */
export const RUN_CONDITIONS = {
  Admitted: 'the run fits in its team quota and may start',
  Scheduled: 'a pod of the run is on a node',
  Running: 'every pod the run needs is running and ready',
  Finished: 'the run succeeded, failed or was stopped',
  Succeeded: 'the run succeeded; Unknown until it finishes, False with the reason it failed or was stopped',
  LogsComplete:
    'only ever False, and only where the platform archives logs: some of what the run printed is not in the archive, the reason says why',
  Tracked:
    'the run has its MLflow run in the tracking server (`status.tracking`); False while the server does not answer',
} as const;

export type RunConditionType = keyof typeof RUN_CONDITIONS;

export const CONDITION = namesOf(RUN_CONDITIONS);
