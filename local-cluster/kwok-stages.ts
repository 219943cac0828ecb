/**
 * kwok stages for the simulated nodes: nodes become Ready, pods start, pods owned by a Job
 * succeed after `jobDurationMs`, and a pod annotated with SIMULATE_ANNOTATION does what a kubelet
 * reports for a broken workload instead: `fail` exits 1, `oom` is OOMKilled (exit 137),
 * `image-pull` stays Pending in ImagePullBackOff, `crash-loop` is Running in CrashLoopBackOff, and
 * `mount-failure` stays ContainerCreating with the FailedMount event of a missing Secret
 * (MOUNT_FAILURE_MESSAGE).
 */
export const SIMULATE_ANNOTATION = 'plinth.dev/simulate';
/** Overrides jobDurationMs for one pod, e.g. "30s". */
export const DURATION_ANNOTATION = 'plinth.dev/simulate-duration';
/** What the kubelet says of a pod that mounts the `git` connection's Secret where it does not exist. */
export const MOUNT_FAILURE_MESSAGE =
  'MountVolume.SetUp failed for volume "conn-git-secret" : secret "git-credentials" not found';

export interface StageOptions {
  /** How long a Job's pod runs before it succeeds or fails. */
  readonly jobDurationMs: number;
  /** How long a scheduled pod takes to become Running. */
  readonly podStartMs: number;
}

const notDeleting = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
const running = { key: '.status.phase', operator: 'In', values: ['Running'] };
/** A pod on a node whose sandbox is not up yet (it has no IP). */
const scheduledNotStarted = [
  notDeleting,
  { key: '.spec.nodeName', operator: 'Exists' },
  { key: '.status.podIP', operator: 'DoesNotExist' },
];
const ownedByJob = { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] };
/** The status of a node's or a pod's Ready condition. */
const READY = '.status.conditions.[] | select( .type == "Ready" ) | .status';
const annotation = (key: string) => `.metadata.annotations["${key}"]`;

const nodeStatus = `{{ $now := Now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
- address: {{ NodeIP | Quote }}
  type: InternalIP
- address: {{ NodeName | Quote }}
  type: Hostname
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
  containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
phase: Running
`;

const condition = (type: string, status: 'True' | 'False', reason?: string) =>
  `- { type: ${type}, status: "${status}"${reason ? `, reason: ${reason}` : ''}, lastTransitionTime: {{ $now | Quote }} }`;

/** Every condition of a started pod: Ready, or not for `notReady`. */
const startedConditions = (notReady?: string) => [
  condition('Initialized', 'True'),
  condition('Ready', notReady ? 'False' : 'True', notReady),
  condition('ContainersReady', notReady ? 'False' : 'True', notReady),
  condition('PodScheduled', 'True'),
];

/**
 * A pod status as a kubelet reports it: the conditions, each container's status (its name and
 * image, then `container`, YAML indented by two), and the phase. `sandbox` adds what the kubelet
 * sets once the pod's sandbox is up: its IPs and start time.
 */
function podStatus(shape: { conditions: string[]; container: string; phase: string; sandbox?: boolean }): string {
  const sandbox = `hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
`;
  return `{{ $now := Now }}
conditions:
${shape.conditions.join('\n')}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
${shape.container}{{ end }}
${shape.sandbox ? sandbox : ''}phase: ${shape.phase}
${shape.sandbox ? 'startTime: {{ $now | Quote }}\n' : ''}`;
}

const podRunning = podStatus({
  conditions: startedConditions(),
  container: `  ready: true
  restartCount: 0
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
`,
  phase: 'Running',
  sandbox: true,
});

function podTerminated(phase: 'Succeeded' | 'Failed', reason: string, exitCode: number): string {
  return podStatus({
    conditions: [condition('Ready', 'False', 'PodCompleted'), condition('ContainersReady', 'False', 'PodCompleted')],
    container: `  ready: false
  restartCount: 0
  started: false
  state:
    terminated:
      exitCode: ${exitCode}
      reason: ${reason}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
`,
    phase,
  });
}

/** What a kubelet reports once the sandbox is up but the image cannot be pulled. */
const podImagePullBackOff = podStatus({
  conditions: startedConditions('ContainersNotReady'),
  container: `  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
      reason: ImagePullBackOff
      message: {{ printf "Back-off pulling image \\"%s\\": ErrImagePull: %s: not found" .image .image | Quote }}
`,
  phase: 'Pending',
  sandbox: true,
});

/** What a kubelet reports while it cannot mount a volume: no sandbox, containers still being created. */
const podContainerCreating = podStatus({
  conditions: [condition('PodScheduled', 'True'), condition('Ready', 'False', 'ContainersNotReady')],
  container: `  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
      reason: ContainerCreating
`,
  phase: 'Pending',
});

/** What a kubelet reports of a container that exits 1 each time it is restarted. */
const podCrashLoopBackOff = podStatus({
  conditions: startedConditions('ContainersNotReady'),
  container: `  ready: false
  restartCount: 3
  started: false
  lastState:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 40s restarting failed container=%s" .name | Quote }}
`,
  phase: 'Running',
});

function stage(name: string, kind: 'Node' | 'Pod', spec: Record<string, unknown>) {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name },
    spec: { resourceRef: { apiGroup: 'v1', kind }, ...spec },
  };
}

export function kwokStages(options: StageOptions) {
  const jobDelay = {
    durationMilliseconds: options.jobDurationMs,
    durationFrom: { expressionFrom: annotation(DURATION_ANNOTATION) },
  };
  const outcome = (value: string) => ({ key: annotation(SIMULATE_ANNOTATION), operator: 'In', values: [value] });
  return [
    stage('node-initialize', 'Node', {
      selector: {
        matchExpressions: [{ key: READY, operator: 'NotIn', values: ['True'] }],
      },
      next: { statusTemplate: nodeStatus },
    }),
    stage('node-heartbeat', 'Node', {
      selector: {
        matchExpressions: [{ key: READY, operator: 'In', values: ['True'] }],
      },
      delay: { durationMilliseconds: 20_000, jitterDurationMilliseconds: 25_000 },
      next: { statusTemplate: nodeStatus },
    }),
    stage('pod-start', 'Pod', {
      selector: {
        matchExpressions: [
          ...scheduledNotStarted,
          { key: annotation(SIMULATE_ANNOTATION), operator: 'NotIn', values: ['image-pull', 'mount-failure'] },
        ],
      },
      delay: { durationMilliseconds: options.podStartMs },
      next: { statusTemplate: podRunning },
    }),
    stage('pod-image-pull-backoff', 'Pod', {
      selector: {
        matchExpressions: [...scheduledNotStarted, outcome('image-pull')],
      },
      delay: { durationMilliseconds: options.podStartMs },
      next: { statusTemplate: podImagePullBackOff },
    }),
    // Only a pod without container statuses matches, and the stage gives it some, so it applies once.
    stage('pod-mount-failure', 'Pod', {
      selector: {
        matchExpressions: [
          ...scheduledNotStarted,
          { key: '.status.containerStatuses', operator: 'DoesNotExist' },
          outcome('mount-failure'),
        ],
      },
      delay: { durationMilliseconds: options.podStartMs },
      next: {
        statusTemplate: podContainerCreating,
        event: { type: 'Warning', reason: 'FailedMount', message: MOUNT_FAILURE_MESSAGE },
      },
    }),
    // Only a Ready pod matches, and the stage makes it unready, so it applies once.
    stage('pod-crash-loop-backoff', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleting,
          running,
          { key: READY, operator: 'In', values: ['True'] },
          outcome('crash-loop'),
        ],
      },
      delay: jobDelay,
      next: { statusTemplate: podCrashLoopBackOff },
    }),
    stage('pod-complete', 'Pod', {
      selector: {
        matchExpressions: [
          notDeleting,
          running,
          ownedByJob,
          { key: annotation(SIMULATE_ANNOTATION), operator: 'DoesNotExist' },
        ],
      },
      delay: jobDelay,
      next: { statusTemplate: podTerminated('Succeeded', 'Completed', 0) },
    }),
    stage('pod-fail', 'Pod', {
      selector: { matchExpressions: [notDeleting, running, outcome('fail')] },
      delay: jobDelay,
      next: { statusTemplate: podTerminated('Failed', 'Error', 1) },
    }),
    stage('pod-oom', 'Pod', {
      selector: { matchExpressions: [notDeleting, running, outcome('oom')] },
      delay: jobDelay,
      next: { statusTemplate: podTerminated('Failed', 'OOMKilled', 137) },
    }),
    // Without a kubelet nobody finalizes deleted pods; remove them once they have no finalizers.
    stage('pod-delete', 'Pod', {
      selector: {
        matchExpressions: [
          { key: '.metadata.deletionTimestamp', operator: 'Exists' },
          { key: '.metadata.finalizers', operator: 'DoesNotExist' },
        ],
      },
      delay: { durationMilliseconds: 100 },
      next: { delete: true },
    }),
  ];
}
