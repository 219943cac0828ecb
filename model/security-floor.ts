import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import type { PlatformConfig } from './config/schema.js';

/** The ids the floor's pod-level fields take from the config. */
type Security = Pick<PlatformConfig['security'], 'runAsUser' | 'runAsGroup' | 'fsGroup'>;

/** The lowest uid or gid that is not root's. */
export const FIRST_NON_ROOT_ID = 1;

/** A pod's securityContext or a container's; where a field is in both, the container's wins. */
export type FloorLevel = 'pod' | 'container';

/** What a value must be to stay at or above the floor. */
export type FloorRequirement =
  /** This value and no other. */
  | { readonly kind: 'only'; readonly value: boolean | string }
  /** A uid or gid that is not root's. */
  | { readonly kind: 'non-root-id'; readonly noun: 'uid' | 'gid' }
  /** A list with nothing in it. */
  | { readonly kind: 'empty' }
  /** A list that holds this item. */
  | { readonly kind: 'includes'; readonly item: string }
  /**
   * The workload's own floor, or this stricter value: the floor differs between workloads (run
   * images may write to their root filesystem, the platform's may not), so only the place that
   * knows the workload's floor can check it.
   */
  | { readonly kind: 'floor-or'; readonly value: boolean };

/** What a floor field guards against; the policies check each concern as one rule. */
export type FloorConcern = 'root' | 'privilege-escalation' | 'host-access' | 'syscalls';

/** A pod-level value that each environment's config gives. */
interface Configured {
  readonly configured: keyof Security;
}

type FloorValue = boolean | string | readonly string[];

export interface FloorField {
  /** Where the field is under a securityContext, dotted: `capabilities.add`. */
  readonly path: string;
  /** The securityContexts Kubernetes reads it from. */
  readonly levels: readonly FloorLevel[];
  /**
   * What the platform sets at each level. Where it sets nothing, what Kubernetes does without
   * the field (or the pod's value, for a container) already meets the floor.
   */
  readonly floor: { readonly pod?: FloorValue | Configured; readonly container?: FloorValue };
  readonly requirement: FloorRequirement;
  /** Kubernetes' behaviour without the field is below the floor, so a manifest must set it at one level. */
  readonly mustBeSet: boolean;
  /**
   * Whatever a run's container lists here, the controller sets the floor's value, so the CRD
   * checks nothing: dropping ALL covers any list of capabilities a run names.
   */
  readonly replacedOnRuns?: true;
  /** The floor as said of runs, which the CRD's messages begin with. */
  readonly rule: string;
  /** The policy concern that checks it on manifests; none where the floor is the workload's own. */
  readonly concern?: FloorConcern;
  /** Why the floor holds this field. */
  readonly reason: string;
}

/**
 * The security floor, each field once: the constructs set it on the platform's pods, the
 * controller on every run's, the Run CRD refuses a run that asks for less, and the policies
 * check it on any manifest.
 */
export const SECURITY_FLOOR: readonly FloorField[] = [
  {
    path: 'runAsNonRoot',
    levels: ['pod', 'container'],
    floor: { pod: true, container: true },
    requirement: { kind: 'only', value: true },
    mustBeSet: true,
    rule: 'runs never run as root',
    concern: 'root',
    reason: 'the kubelet refuses to start a container whose user is root, whatever its image says',
  },
  {
    path: 'runAsUser',
    levels: ['pod', 'container'],
    floor: { pod: { configured: 'runAsUser' } },
    requirement: { kind: 'non-root-id', noun: 'uid' },
    // Left out, the image's user runs, and runAsNonRoot refuses it if that is root.
    mustBeSet: false,
    rule: 'runs never run as root',
    concern: 'root',
    reason: 'uid 0 in a container is uid 0 on the node once a process escapes it',
  },
  {
    path: 'runAsGroup',
    levels: ['pod', 'container'],
    floor: { pod: { configured: 'runAsGroup' } },
    requirement: { kind: 'non-root-id', noun: 'gid' },
    mustBeSet: false,
    rule: 'runs never run in the root group',
    concern: 'root',
    reason: 'gid 0 may write whatever the root group may, on volumes and on the node',
  },
  {
    path: 'fsGroup',
    levels: ['pod'],
    floor: { pod: { configured: 'fsGroup' } },
    requirement: { kind: 'non-root-id', noun: 'gid' },
    mustBeSet: false,
    rule: 'runs never own their volumes as the root group',
    concern: 'root',
    reason: "the pod's volumes are made this group's: gid 0 would hand them to the root group",
  },
  {
    path: 'allowPrivilegeEscalation',
    levels: ['container'],
    floor: { container: false },
    requirement: { kind: 'only', value: false },
    mustBeSet: true,
    rule: 'runs cannot gain privileges',
    concern: 'privilege-escalation',
    reason: 'setuid binaries would let a process gain more than it started with',
  },
  {
    path: 'privileged',
    levels: ['container'],
    floor: { container: false },
    requirement: { kind: 'only', value: false },
    mustBeSet: false,
    rule: 'runs are never privileged',
    concern: 'host-access',
    reason: "a privileged container has every device and capability of the node's root",
  },
  {
    path: 'readOnlyRootFilesystem',
    levels: ['container'],
    floor: { container: true },
    requirement: { kind: 'floor-or', value: true },
    mustBeSet: false,
    rule: 'runs may make their root filesystem read-only',
    reason: 'a process cannot change the image it runs, only the volumes it is given',
  },
  {
    path: 'capabilities.drop',
    levels: ['container'],
    floor: { container: ['ALL'] },
    requirement: { kind: 'includes', item: 'ALL' },
    mustBeSet: true,
    replacedOnRuns: true,
    rule: 'runs drop every capability',
    concern: 'privilege-escalation',
    reason: "a container keeps the runtime's default capabilities (NET_RAW, SETUID, CHOWN...) unless it drops them",
  },
  {
    path: 'capabilities.add',
    levels: ['container'],
    floor: {},
    requirement: { kind: 'empty' },
    mustBeSet: false,
    rule: 'runs cannot add capabilities',
    concern: 'privilege-escalation',
    reason: 'each capability is a piece of root',
  },
  {
    path: 'seccompProfile.type',
    levels: ['pod', 'container'],
    floor: { pod: 'RuntimeDefault', container: 'RuntimeDefault' },
    requirement: { kind: 'only', value: 'RuntimeDefault' },
    mustBeSet: true,
    rule: 'runs use the RuntimeDefault seccomp profile',
    concern: 'syscalls',
    reason: "without a profile every syscall is open to the container, the kernel's whole surface",
  },
  {
    path: 'procMount',
    levels: ['container'],
    floor: {},
    requirement: { kind: 'only', value: 'Default' },
    mustBeSet: false,
    rule: 'runs use the Default proc mount',
    concern: 'host-access',
    reason: 'an unmasked /proc shows what the runtime hides of the node and its kernel',
  },
];

/** The fields Kubernetes reads from this level's securityContext. */
export function floorFieldsAt(level: FloorLevel): readonly FloorField[] {
  return SECURITY_FLOOR.filter((field) => field.levels.includes(level));
}

/**
 * Whether a value of the field meets the floor. `workloadFloor` is the workload's own value of a
 * field whose floor differs between workloads.
 */
export function meetsFloor(requirement: FloorRequirement, value: unknown, workloadFloor?: unknown): boolean {
  switch (requirement.kind) {
    case 'only':
      return value === requirement.value;
    case 'non-root-id':
      return Number.isInteger(value) && (value as number) >= FIRST_NON_ROOT_ID;
    case 'empty':
      return Array.isArray(value) && value.length === 0;
    case 'includes':
      return Array.isArray(value) && value.includes(requirement.item);
    case 'floor-or':
      return value === requirement.value || (workloadFloor !== undefined && value === workloadFloor);
  }
}

/** The value that meets the requirement whatever the workload, where there is one. */
export function requiredValue(requirement: FloorRequirement): FloorValue | undefined {
  if (requirement.kind === 'only') return requirement.value;
  if (requirement.kind === 'includes') return [requirement.item];
  return undefined;
}

/** What the requirement allows, as words for messages and docs: `a uid of 1 or more`. */
export function allowedValues(requirement: FloorRequirement): string {
  switch (requirement.kind) {
    case 'only':
      return String(requirement.value);
    case 'non-root-id':
      return `a ${requirement.noun} of ${FIRST_NON_ROOT_ID} or more`;
    case 'empty':
      return 'empty';
    case 'includes':
      return `a list that includes ${requirement.item}`;
    case 'floor-or':
      return `${String(requirement.value)}, or the workload's floor`;
  }
}

/** The field's value in a securityContext, if it has one. */
export function valueAt(securityContext: object | undefined, path: string): unknown {
  let node: unknown = securityContext;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A securityContext holding these values, nested along their paths; undefined values are left out. */
export function securityContextWith(values: Iterable<readonly [FloorField, unknown]>): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [field, value] of values) {
    if (value === undefined) continue;
    const keys = field.path.split('.');
    const last = keys.pop() as string;
    let node = context;
    for (const key of keys) node = (node[key] ??= {}) as Record<string, unknown>;
    node[last] = value;
  }
  return context;
}

/**
 * The floor's pod-level values, the ids from the environment's config. The same values go into
 * the controller's ConfigMap so runs get the same floor.
 */
export function podSecurityContext(security: Security): V1PodSecurityContext {
  return securityContextWith(
    floorFieldsAt('pod').map((field) => {
      const value = field.floor.pod;
      return [field, typeof value === 'object' && 'configured' in value ? security[value.configured] : value];
    }),
  ) as V1PodSecurityContext;
}

/** The floor's container-level values. Read-only root is the default; images that must write opt out. */
export function containerSecurityContext(options: { readOnlyRootFilesystem?: boolean } = {}): V1SecurityContext {
  return securityContextWith(
    floorFieldsAt('container').map((field) => [
      field,
      (field.path === 'readOnlyRootFilesystem' ? options.readOnlyRootFilesystem : undefined) ?? field.floor.container,
    ]),
  ) as V1SecurityContext;
}
