import type { PlatformConfig } from './config/schema.js';
import type { Team } from './config/teams.js';

/**
 * The names every output agrees on: namespaces, hosts, Services and accounts. Constructs name
 * objects with them, and the controller, policies and stacks find those objects by them.
 */

/**
 * The ServiceAccount runs use in every team namespace: no RBAC bindings and no token, so a run
 * cannot touch the API.
 */
export const RUN_SERVICE_ACCOUNT = 'plinth-run';

/**
 * Every account a team's runs may act as: the run account and the team's `serviceAccounts`. Each
 * carries the team's artifact-store identity, and only these may use it.
 */
export function teamRunAccounts(team: Team): string[] {
  return [RUN_SERVICE_ACCOUNT, ...team.serviceAccounts.map((a) => a.name)];
}

/**
 * The ValidatingAdmissionPolicies that keep a team's admins from opening the team namespace, each
 * bound to the team namespaces by a ValidatingAdmissionPolicyBinding of the same name: one for the
 * subjects of RoleBindings, one for non-expiring ServiceAccount token Secrets.
 */
export const TEAM_ADMIN_GUARDS = {
  bindingSubjects: 'plinth-team-binding-subjects',
  accountTokens: 'plinth-team-account-tokens',
} as const;

/** The controller's Deployment, ServiceAccount, ConfigMap and Lease. */
export const CONTROLLER_COMPONENT = 'controller';
export const CONTROLLER_NAME = 'plinth-controller';

/**
 * Where the operators the platform builds on run, unless the config says otherwise: the
 * namespaces their Helm charts install into, which the platform's NetworkPolicies admit.
 */
export const CNPG_OPERATOR_NAMESPACE = 'cnpg-system';
export const INGRESS_CONTROLLER_NAMESPACE = 'ingress-nginx';

/** The certificate of a team's runs host, in the team namespace. */
export const RUNS_CERTIFICATE = 'runs-tls';

/** Each team's namespace. */
export function teamNamespaceName(config: PlatformConfig, team: string): string {
  return `${config.namespace}-${team}`;
}

/**
 * The Secret a team's runs read their artifact-store credentials from, in the team namespace, when
 * the store's credentials are Secrets: the team's own, which reach only the team's prefixes
 * (model/store-access.ts), never the platform's `artifacts.credentials.secret`.
 */
export function teamArtifactStoreSecretName(team: string): string {
  return `artifact-store-${team}`;
}

/**
 * The Secret of the controller's store credential, with which it archives runs' logs, in the
 * platform namespace, where the platform makes the store's users (model/log-archive.ts).
 */
export const LOG_ARCHIVE_SECRET = 'log-archive';

/**
 * The Job that makes each team's user and its prefix policy in an S3-compatible store through the
 * store's admin API, in the platform namespace, and the Secret and ConfigMap it reads: `pulumi up`
 * runs it beside an outside store (MinIO), and the platform chart carries it with its own store.
 */
export const STORE_USERS_COMPONENT = 'artifact-store-users';

/**
 * The S3 store the platform deploys when `artifacts.server` asks for one: its Deployment, Service,
 * claim and NetworkPolicy (`allow-object-store`).
 */
export const OBJECT_STORE_COMPONENT = 'object-store';

/**
 * Its ports: S3 for every client of the store, and the admin API (users) apart, so that only the
 * store-users Job is let in to it. The Service forwards each to the same port on the pod, as
 * NetworkPolicies match the pod's port.
 */
export const OBJECT_STORE_PORTS = { s3: 9000, admin: 9001 } as const;

/**
 * The daily CronJob that deletes logs and outputs older than the retention from the platform's own
 * store, which has no lifecycle rules (constructs/store-expiry.ts), and its ConfigMap.
 */
export const STORE_EXPIRY_COMPONENT = 'object-store-expiry';

/** Where the store answers its health checks, on its S3 port, without credentials. */
export const OBJECT_STORE_HEALTH_PATH = '/health';

/** The keys of the store's root Secret (`artifacts.server.rootSecret`), named as versitygw reads them from its env. */
export const OBJECT_STORE_ROOT_KEYS = {
  accessKeyId: 'ROOT_ACCESS_KEY_ID',
  secretAccessKey: 'ROOT_SECRET_ACCESS_KEY',
} as const;

/** The URL every client of the platform's own store names it by: `artifacts.endpoint` must be exactly this. */
export function objectStoreEndpoint(namespace: string): string {
  return `http://${OBJECT_STORE_COMPONENT}.${namespace}.svc:${OBJECT_STORE_PORTS.s3}`;
}

/** Its admin API, which the store-users Job alone calls. */
export function objectStoreAdminEndpoint(namespace: string): string {
  return `http://${OBJECT_STORE_COMPONENT}.${namespace}.svc:${OBJECT_STORE_PORTS.admin}`;
}

/** Host names the platform serves. Run services of a team live under that team's host. */
export function trackingHost(config: PlatformConfig): string {
  return `tracking.${config.ingress.domain}`;
}
export function teamRunsHost(config: PlatformConfig, team: string): string {
  return `${team}.runs.${config.ingress.domain}`;
}

/** The Secret an Ingress for `host` reads its certificate from. */
export function tlsSecretName(config: PlatformConfig, certificateName: string): string {
  return config.ingress.tls.kind === 'secret' ? config.ingress.tls.secretName : certificateName;
}

/** The tracking server's Service and port. */
export const TRACKING_COMPONENT = 'tracking';
export const TRACKING_PORT = 5000;

/** The in-cluster URI runs log to (MLFLOW_TRACKING_URI). */
export function trackingUri(config: PlatformConfig): string {
  return `http://${TRACKING_COMPONENT}.${config.namespace}.svc:${TRACKING_PORT}`;
}

/**
 * The Host headers the tracking server answers (MLflow's `--allowed-hosts`, which guards against
 * DNS rebinding): its Service's names, as runs and the controller call it, and its ingress host.
 * Private addresses too, as MLflow allows by default, since probes and metrics scrapes call a pod
 * by its IP; and this machine's own names, as MLflow allows by default too, for a `kubectl
 * port-forward` (a person's browser, or a controller run outside the cluster).
 */
export function trackingAllowedHosts(config: PlatformConfig): string[] {
  const service = `${TRACKING_COMPONENT}.${config.namespace}.svc`;
  const privateAddresses = ['10.*', '192.168.*', ...Array.from({ length: 16 }, (_, i) => `172.${16 + i}.*`)];
  const loopback = ['localhost:*', '127.0.0.1:*'];
  return [
    service,
    `${service}:*`,
    `${service}.cluster.local:*`,
    trackingHost(config),
    ...privateAddresses,
    ...loopback,
  ];
}

/**
 * The longest run name the API server accepts. A run's children are named after it, and a name
 * ends up in 63-character fields (a Service name, a label value); 52 leaves 11 characters for the
 * suffixes that run kinds with several children per run will add (`-worker-12`).
 */
export const RUN_NAME_MAX = 52;
