import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import { runCustomResourceDefinition } from '../controller/api/crd.js';
import { CONTROLLER_PORTS } from '../controller/api/metrics.js';
import {
  AUTHENTICATION_READER_ROLE,
  LOGS_API,
  LOGS_API_CLUSTER_GRANTS,
  LOGS_API_NAMESPACE_GRANTS,
  LOGS_API_PORT,
  LOGS_API_SERVICE_NAME,
} from '../controller/api/logs.js';
import {
  PLATFORM_DEFAULTS_KEY,
  type PlatformDefaults,
  type TeamDefaults,
} from '../controller/api/platform-defaults.js';
import type { PlatformConfig } from '../model/config/schema.js';
import { teamArtifactConnection } from '../model/artifacts.js';
import { logArchiveOf } from '../model/log-archive.js';
import { teamOutputs } from '../model/run-outputs.js';
import { cdk8sEnv } from './k8s-boundary.js';
import { CoreService } from './core-service.js';
import { runConnection, teamConnections } from '../model/connections.js';
import { teamPriorityClasses } from '../model/priority-classes.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import {
  AllowTraffic,
  API_SERVER_EGRESS,
  artifactStoreEgress,
  egressTo,
  namespacePeer,
  podsPeer,
  tcp,
} from './network-policies.js';
import { poolPlacement, runPools, isGpuPool, teamDefaultPools, teamPools } from '../model/pools.js';
import { containerSecurityContext, podSecurityContext } from '../model/security-floor.js';
import {
  RUN_SERVICE_ACCOUNT,
  CONTROLLER_COMPONENT,
  CONTROLLER_NAME,
  RUNS_CERTIFICATE,
  teamNamespaceName,
  teamRunsHost,
  tlsSecretName,
  trackingHost,
  trackingUri,
  TRACKING_COMPONENT,
  TRACKING_PORT,
} from '../model/names.js';
import { controllerRules } from '../controller/api/children.js';

/** How a team's runs reach the artifact store: with the team's credential, never the platform's. */
function artifactWiring(config: PlatformConfig, team: string): TeamDefaults['artifacts'] {
  const { env, volumes, volumeMounts } = teamArtifactConnection(config.artifacts, team);
  return { env, volumes, volumeMounts, outputs: teamOutputs(config.artifacts, team) };
}

/** The defaults the controller applies to runs, derived from the config (nothing restated). */
export function platformDefaults(config: PlatformConfig): PlatformDefaults {
  const pools = Object.fromEntries(
    runPools(config).map((name) => [name, { gpu: isGpuPool(config, name), ...poolPlacement(config, name) }]),
  );
  const teams = Object.fromEntries(
    config.teams.map((t): [string, TeamDefaults] => {
      const defaultPools = teamDefaultPools(config, t);
      return [
        teamNamespaceName(config, t.name),
        {
          team: t.name,
          maxConcurrentRuns: t.quota.maxConcurrentRuns,
          gpu: t.quota.gpu,
          pools: teamPools(config, t),
          defaultPool: defaultPools.cpu ?? null,
          defaultGpuPool: defaultPools.gpu ?? null,
          connections: teamConnections(config, t).map((c) => c.name),
          priorityClasses: teamPriorityClasses(config, t),
          serviceAccounts: Object.fromEntries(t.serviceAccounts.map((a) => [a.name, { mountToken: a.mountToken }])),
          servicesHost: teamRunsHost(config, t.name),
          artifacts: artifactWiring(config, t.name),
        },
      ];
    }),
  );
  return {
    environment: config.name,
    pools,
    podSecurityContext: podSecurityContext(config.security),
    // Runs write their scratch to /tmp (RUN_SCRATCH); a platform whose images write elsewhere opts out.
    containerSecurityContext: containerSecurityContext({ readOnlyRootFilesystem: config.security.readOnlyRunRoot }),
    runServiceAccount: RUN_SERVICE_ACCOUNT,
    tracking: {
      uri: trackingUri(config),
      uiUrl: `https://${trackingHost(config)}`,
      waitSeconds: config.tracking.waitSeconds,
    },
    initImage: config.images.init,
    externalServices: {
      ingressClassName: config.ingress.className,
      tlsSecretName: tlsSecretName(config, RUNS_CERTIFICATE),
    },
    connections: Object.fromEntries(config.connections.map((c) => [c.name, runConnection(c)])),
    teams,
    runRetention: config.runs.retention,
    logArchive: logArchiveOf(config)?.location ?? null,
  };
}

/**
 * V8 sizes its heap from the machine, not the container, and would grow until the kubelet kills
 * it; half the memory limit leaves room for everything off the heap. A bounded old generation
 * also shrinks V8's default young generation, which made the controller spend a third of its
 * time in scavenges; a fixed 8 MiB semi-space keeps that under 3%.
 */
export function nodeOptions(memoryLimit: string): string {
  return `--max-old-space-size=${nodeHeapLimitMiB(memoryLimit)} --max-semi-space-size=8`;
}

export function nodeHeapLimitMiB(memoryLimit: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(memoryLimit);
  if (!match) throw new Error(`cannot read the memory limit "${memoryLimit}"`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 1024 * 1024,
    K: 1e3 / 1048576,
    M: 1e6 / 1048576,
    G: 1e9 / 1048576,
    T: 1e12 / 1048576,
  };
  const mebibytes = Number(match[1]) * (match[2] ? (factor[match[2]] ?? 1) : 1 / 1048576);
  return Math.max(64, Math.floor(mebibytes / 2));
}

const READ = ['get', 'list', 'watch'];

export interface ControllerDeploymentProps {
  readonly config: PlatformConfig;
}

/**
 * The bundled controller: two replicas with leader election, a least-privilege ServiceAccount,
 * the ConfigMap of platform defaults, and the Run CRD from the controller's own schema module.
 */
export class ControllerDeployment extends Construct {
  constructor(scope: Construct, id: string, props: ControllerDeploymentProps) {
    super(scope, id);
    const { config } = props;
    const labels = componentLabels(config.name, CONTROLLER_COMPONENT);
    const namespace = config.namespace;

    const crd = runCustomResourceDefinition({
      pools: runPools(config).map((name) => ({ name, gpu: isGpuPool(config, name) })),
      connections: config.connections.map((c) => c.name),
      priorityClasses: config.runs.priorityClasses.map((c) => c.name),
      serviceAccounts: [...new Set(config.teams.flatMap((t) => t.serviceAccounts.map((a) => a.name)))],
    });
    new ApiObject(this, 'run-crd', { ...crd, metadata: { ...crd.metadata, labels } });
    // The priority classes runs may name; which team may use which is the controller's check.
    for (const priorityClass of config.runs.priorityClasses) {
      new k8s.KubePriorityClass(this, `priority-class-${priorityClass.name}`, {
        metadata: { name: priorityClass.name, labels },
        value: priorityClass.value,
        description: priorityClass.description,
        preemptionPolicy: priorityClass.preempts ? 'PreemptLowerPriority' : 'Never',
        globalDefault: false,
      });
    }

    // Logs are archived with the controller's own store credential, which writes only the logs.
    const logArchive = logArchiveOf(config);
    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: CONTROLLER_NAME, namespace, labels, annotations: logArchive?.serviceAccountAnnotations },
      automountServiceAccountToken: false,
    });

    new k8s.KubeClusterRole(this, 'cluster-role', {
      metadata: { name: CONTROLLER_NAME, labels },
      // Exactly what reconciling runs uses, cluster-wide because runs live in every team namespace:
      // derived from the list of resources the controller watches, applies and deletes; and what
      // serving the logs API adds.
      rules: [...controllerRules(), ...LOGS_API_CLUSTER_GRANTS.map((g) => ({ ...g }))],
    });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: CONTROLLER_NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLER_NAME },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace }],
    });

    // Its own ConfigMap and Lease, in its own namespace only.
    new k8s.KubeRole(this, 'role', {
      metadata: { name: CONTROLLER_NAME, namespace, labels },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [CONTROLLER_NAME], verbs: READ },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: [CONTROLLER_NAME],
          verbs: ['get', 'update', 'patch'],
        },
        ...LOGS_API_NAMESPACE_GRANTS.map((g) => ({ ...g })),
      ],
    });
    new k8s.KubeRoleBinding(this, 'role-binding', {
      metadata: { name: CONTROLLER_NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CONTROLLER_NAME },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace }],
    });

    // The logs API knows the API server's requests by its front-proxy CA, which kube-system publishes.
    new k8s.KubeRoleBinding(this, 'authentication-reader-binding', {
      metadata: { name: `${CONTROLLER_NAME}-authentication-reader`, namespace: 'kube-system', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: AUTHENTICATION_READER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace }],
    });

    new k8s.KubeConfigMap(this, 'defaults', {
      metadata: { name: CONTROLLER_NAME, namespace, labels },
      data: { [PLATFORM_DEFAULTS_KEY]: JSON.stringify(platformDefaults(config), null, 2) + '\n' },
    });

    const probe = (path: string, patience: Pick<k8s.Probe, 'timeoutSeconds' | 'failureThreshold'>): k8s.Probe => ({
      httpGet: { path, port: k8s.IntOrString.fromString('health') },
      periodSeconds: 10,
      ...patience,
    });

    const service = new CoreService(this, 'service', {
      config,
      component: CONTROLLER_COMPONENT,
      image: config.images.controller,
      replicas: config.controller.replicas,
      resources: config.controller.resources,
      ports: [
        { name: 'metrics', port: CONTROLLER_PORTS.metrics },
        { name: 'health', port: CONTROLLER_PORTS.health },
        { name: 'logs-api', port: LOGS_API_PORT },
      ],
      args: [`--config-map=${CONTROLLER_NAME}`, `--lease=${CONTROLLER_NAME}`, `--namespace=${namespace}`],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        {
          name: 'NODE_OPTIONS',
          value: nodeOptions(config.controller.resources.limits.memory),
        },
        ...cdk8sEnv(logArchive?.env ?? []),
      ],
      serviceAccountName: CONTROLLER_NAME,
      automountServiceAccountToken: true,
      // A restart is the costliest answer to a slow one: every log stream is opened again and read
      // from its archive's end. Under a burst of logs, at its CPU limit, the controller may answer
      // its probes late (bench:logs); so it is restarted only after a minute without an answer.
      // Readiness stays quick.
      livenessProbe: probe('/healthz', { timeoutSeconds: 5, failureThreshold: 6 }),
      readinessProbe: probe('/readyz', { timeoutSeconds: 3, failureThreshold: 3 }),
    });

    // The logs API, registered with the API server, which forwards reads to the controller's Service.
    // No caBundle here: the controller issues its serving certificate and puts it there itself
    // (controller/logs-api/serving-secret.ts), so no key is ever in a manifest.
    new ApiObject(this, 'logs-api-service', {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: LOGS_API_SERVICE_NAME, labels },
      spec: {
        group: LOGS_API.group,
        version: LOGS_API.version,
        service: { name: service.service.name, namespace, port: LOGS_API_PORT },
        // Well below the built-in groups, which kubectl prefers for a short name.
        groupPriorityMinimum: 1000,
        versionPriority: 15,
      },
    });

    const store = artifactStoreEgress(config);
    new AllowTraffic(this, 'network-policy', {
      metadata: { name: 'allow-controller', namespace, labels },
      podSelector: { matchLabels: selectorLabels(CONTROLLER_COMPONENT) },
      // Prometheus scrapes /metrics; the API server calls the logs API (its probes come from the kubelet).
      ingress: [
        ...(config.monitoring.enabled
          ? [{ from: [namespacePeer(config.monitoring.prometheusNamespace)], ports: [tcp(CONTROLLER_PORTS.metrics)] }]
          : []),
        // The API server forwards logs API reads from its own addresses, which no selector names;
        // the port takes requests only from a client the API server's front-proxy CA signed.
        { ports: [tcp(LOGS_API_PORT)] },
      ],
      // It watches runs and their children, and applies them, through the API server; it archives
      // runs' logs to the store, and makes each run's MLflow run in the tracking server.
      egress: [
        API_SERVER_EGRESS,
        ...(logArchive && store ? [egressTo(store)] : []),
        { to: [podsPeer(selectorLabels(TRACKING_COMPONENT))], ports: [tcp(TRACKING_PORT)] },
      ],
    });
  }
}
