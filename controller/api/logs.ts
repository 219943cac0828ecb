/**
 * The run API's contract for logs: what the controller puts on run pods and runs so that every
 * line a run prints is archived (controller/logs/), and what tells a run's users when it was not.
 */

/**
 * On every pod of a run, where the platform archives logs: the pod stays, terminating, until its
 * containers' logs are archived to their end, so that a stop, a TTL or a deletion loses no line.
 */
export const LOGS_FINALIZER = 'plinth.dev/logs';

/**
 * How long after a pod's deletion the archiver still tries to finish its logs. Past it the
 * finalizer is taken off whatever is left, and the run says its logs are incomplete: a stop never
 * hangs on an archiver that is down or a node that is gone.
 */
export const LOGS_DEADLINE_SECONDS = 600;

/**
 * The read API the platform serves for archived and live logs, through the Kubernetes API server
 * (an aggregated API). `GET /apis/logs.plinth.dev/v1alpha1/namespaces/<ns>/runlogs/<run>` is the
 * RunLogs object (which containers of the run have a log, and where it is read from);
 * `.../runlogs/<run>/log` is the log itself, as text. The API server authenticates the caller and
 * authorizes `get` on `runlogs` and `runlogs/log` with RBAC before it forwards the request, so a
 * team's roles decide who reads its logs, as they do for its runs. The log is a subresource named
 * `log`, as `pods/log` is, because the API server cuts every other request at its request timeout
 * (60 s by default): a followed log must outlive it.
 */
export const LOGS_API = {
  group: 'logs.plinth.dev',
  version: 'v1alpha1',
  resource: 'runlogs',
  kind: 'RunLogs',
  subresource: 'log',
} as const;

/** The APIService that registers the read API with the Kubernetes API server. */
export const LOGS_API_SERVICE_NAME = `${LOGS_API.version}.${LOGS_API.group}`;

/**
 * The Secret, in the platform's namespace, that holds the read API's serving certificate, which the
 * controller issues and rotates itself (controller/logs-api/serving-certificate.ts).
 */
export const LOGS_API_SERVING_SECRET = 'plinth-logs-api-serving';

/** The port the controller serves the read API on, behind its Service's `logs-api` port. */
export const LOGS_API_PORT = 8443;

/**
 * The read API's query parameters, each with what it takes: the one list the server checks a
 * request against and the README's table is generated from.
 */
export const RUN_LOGS_PARAMETERS = {
  pod: 'only this pod of the run (its name, as `kubectl get pods` shows it)',
  container: 'only this container (an init container, a platform step such as `plinth-restore`, or `main`)',
  follow: '`true` to stream until the run has finished; `false` [default] to read what there is and end',
  timestamps: '`true` to start each line with the time the kubelet stamped it (RFC 3339, nanoseconds)',
  prefix: '`true` to start each line with `[<pod>/<container>] `; the default is `true` unless `container` is given',
  uid: "the run's uid, to read a run that was deleted, or an earlier run that had the same name, while its logs are kept",
} as const;

export type RunLogsParameter = keyof typeof RUN_LOGS_PARAMETERS;

/** An RBAC rule, as the constructs grant it. */
interface Grant {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly resourceNames?: string[];
  readonly verbs: string[];
}

/**
 * What serving the read API needs beyond what reconciling runs does (children.ts), cluster-wide:
 * asking RBAC whether a caller may read (a SubjectAccessReview), and putting its certificate into
 * its own APIService, no other.
 */
export const LOGS_API_CLUSTER_GRANTS: readonly Grant[] = [
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  {
    apiGroups: ['apiregistration.k8s.io'],
    resources: ['apiservices'],
    resourceNames: [LOGS_API_SERVICE_NAME],
    verbs: ['get', 'patch'],
  },
];

/**
 * ... and in the platform's namespace: its serving Secret, no other. RBAC cannot restrict a create
 * to a name, so `create` is granted on Secrets of that namespace alone, which holds no team's.
 */
export const LOGS_API_NAMESPACE_GRANTS: readonly Grant[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['secrets'], resourceNames: [LOGS_API_SERVING_SECRET], verbs: ['get', 'update'] },
];

/**
 * The Role in kube-system, made by the API server itself, that reads the one ConfigMap holding its
 * front-proxy CA: how the read API knows a request comes from the API server.
 */
export const AUTHENTICATION_READER_ROLE = 'extension-apiserver-authentication-reader';
