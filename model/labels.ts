/**
 * Label and annotation keys, defined once. Everything the platform emits is labelled from here,
 * and the controller labels runs' children with the same keys.
 */
export const APP_LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

export const PLINTH_LABELS = {
  environment: 'plinth.dev/environment',
  team: 'plinth.dev/team',
  run: 'plinth.dev/run',
  /**
   * On a run's pods: the run's uid, under which its logs are archived (model/store-layout.ts), so
   * that two runs that reused a name never mix.
   */
  runUid: 'plinth.dev/run-uid',
  /** On pods of external run services, which the ingress controller may reach. */
  serves: 'plinth.dev/serves',
  /** On a Run a composite run made: the name of the run that made it. */
  parent: 'plinth.dev/parent',
  /** On a Run a composite run made: the name of the top-level run it descends from. */
  root: 'plinth.dev/root',
} as const;

export const PLINTH_ANNOTATIONS = {
  /** On a Run a composite run made: the whole key its name was cut from (model/child-names.ts). */
  childKey: 'plinth.dev/child-key',
} as const;

/** Set by the API server on every namespace, to its name: NetworkPolicies name namespaces by it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** cert-manager's label on the pods that answer ACME HTTP-01 challenges, which the ingress controller must reach. */
export const ACME_HTTP01_SOLVER_LABEL = 'acme.cert-manager.io/http01-solver';

/** Waives a policy rule on one object: `<rule-id>=<reason>`, several separated by `;` or newlines. */
export const POLICY_WAIVER_ANNOTATION = 'policies.plinth.dev/waive';

/** On the pods of runs that name a connection; that connection's egress NetworkPolicy selects them. */
export const connectionLabel = (connection: string): string => `connections.plinth.dev/${connection}`;

/**
 * Labels that open network paths (the ingress controller's way in, a connection's way out). Only
 * the controller sets them, from what a run is, never from the labels a run asks for.
 */
export function grantsNetworkAccess(key: string): boolean {
  return key === PLINTH_LABELS.serves || key.startsWith(connectionLabel(''));
}

/**
 * Key prefixes of pod labels and annotations that the platform, Kubernetes or an add-on acts on.
 * A run may not set them on its pods: each would let one team's run reach past its namespace or
 * its quota. The Run CRD refuses them at apply time, naming the key.
 */
export const RESERVED_POD_KEYS: readonly {
  readonly prefix: string;
  readonly why: string;
  /** Whether annotations are refused too, not only labels. */
  readonly annotations: boolean;
}[] = [
  {
    prefix: 'plinth.dev/',
    why: "the platform's own: which run and team a pod is, and whether the ingress may reach it",
    // The platform reads no pod annotation of its own; the local cluster's simulation keys are annotations.
    annotations: false,
  },
  { prefix: connectionLabel(''), why: "a connection's egress is opened by the controller alone", annotations: true },
  { prefix: 'kubernetes.io/', why: "Kubernetes' own, such as a pod's network bandwidth", annotations: true },
  { prefix: 'k8s.io/', why: "Kubernetes' own", annotations: true },
  {
    prefix: 'acme.cert-manager.io/',
    why: "cert-manager's ACME solvers, which the ingress may reach",
    annotations: true,
  },
  { prefix: 'cluster-autoscaler.kubernetes.io/', why: 'it keeps nodes from scaling down', annotations: true },
  { prefix: 'karpenter.sh/', why: 'it keeps nodes from being consolidated', annotations: true },
  {
    prefix: 'k8s.v1.cni.cncf.io/',
    why: 'it attaches pods to networks other than the cluster network',
    annotations: true,
  },
];

export const PART_OF = 'plinth';
export const MANAGED_BY = 'plinth';

/** PodSecurity admission labels: enforce, audit and warn at the same level. */
export function podSecurityLabels(level: 'restricted' | 'baseline'): Record<string, string> {
  return {
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/audit': level,
    'pod-security.kubernetes.io/warn': level,
  };
}

/** The labels that select a component's pods; stable for the life of the component. */
export function selectorLabels(component: string): Record<string, string> {
  return { [APP_LABELS.name]: component, [APP_LABELS.instance]: `${PART_OF}-${component}` };
}

/** Every label a platform object carries. */
export function componentLabels(environment: string, component: string): Record<string, string> {
  return {
    ...selectorLabels(component),
    [APP_LABELS.component]: component,
    [APP_LABELS.partOf]: PART_OF,
    [APP_LABELS.managedBy]: MANAGED_BY,
    [PLINTH_LABELS.environment]: environment,
  };
}
