import { ApiException, CoreV1Api, CustomObjectsApi, HttpMethod } from '@kubernetes/client-node';
import { LOGS_API, LOGS_API_PORT, LOGS_API_SERVICE_NAME } from '../../controller/api/logs.js';
import { requestApi } from '../../controller/runtime/kube-config.js';
import { NODE_NETWORK } from '../../local-cluster/host-network.js';
import { applyOrThrow } from '../../local-cluster/server-side-apply.js';
import { eventually, kubeConfigAs } from './cluster-clients.js';
import { find, objectsOf, type K8sObject } from './platform.js';

/**
 * The logs API served by a controller the tests run on this machine, registered with the API
 * server as the platform registers the in-cluster one: the platform's APIService, pointed at a
 * Service of the test's whose endpoint is the controller's port on the node network's host
 * address. The API server dials endpoints directly on the local cluster
 * (--enable-aggregator-routing), so it reaches the controller as it would reach a pod.
 */

const NAMESPACE = 'plinth';
const TEST_SERVICE = 'plinth-logs-api-test';
const admin = () => kubeConfigAs('admin');

/** Points the APIService at the test's Service: before the controller starts, whose certificate names it. */
export async function registerLogsApi(): Promise<void> {
  const apiService = find(objectsOf('local'), 'APIService', LOGS_API_SERVICE_NAME);
  const spec = apiService['spec'] as Record<string, unknown>;
  const pointed: K8sObject = {
    ...apiService,
    spec: { ...spec, service: { name: TEST_SERVICE, namespace: NAMESPACE, port: LOGS_API_PORT } },
  };
  await applyOrThrow(admin(), [pointed]);
}

/** Routes the test's Service to the controller's port, and waits until the API server says the API is available. */
export async function routeLogsApiTo(port: number): Promise<void> {
  const core = admin().makeApiClient(CoreV1Api);
  const service: K8sObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: TEST_SERVICE, namespace: NAMESPACE },
    spec: { ports: [{ name: 'logs-api', port: LOGS_API_PORT, targetPort: port }] },
  };
  await applyOrThrow(admin(), [service]);
  // Endpoints of a Service without a selector are the user's to write; the mirroring controller
  // makes the EndpointSlice from them.
  await core.deleteNamespacedEndpoints({ name: TEST_SERVICE, namespace: NAMESPACE }).catch(() => undefined);
  await core.createNamespacedEndpoints({
    namespace: NAMESPACE,
    body: {
      metadata: { name: TEST_SERVICE, namespace: NAMESPACE },
      subsets: [{ addresses: [{ ip: NODE_NETWORK.hostAddress }], ports: [{ name: 'logs-api', port }] }],
    },
  });
  await waitForLogsApi();
}

/** Waits until the APIService is Available: the API server reached the server and trusts its certificate. */
export async function waitForLogsApi(timeoutMs = 60_000): Promise<void> {
  const objects = admin().makeApiClient(CustomObjectsApi);
  await eventually(
    `APIService ${LOGS_API_SERVICE_NAME} to be Available`,
    async () => {
      const service = (await objects.getClusterCustomObject({
        group: 'apiregistration.k8s.io',
        version: 'v1',
        plural: 'apiservices',
        name: LOGS_API_SERVICE_NAME,
      })) as { status?: { conditions?: { type: string; status: string; message?: string }[] } };
      const available = service.status?.conditions?.find((c) => c.type === 'Available');
      if (available?.status === 'True') return true;
      throw new Error(available?.message ?? 'no Available condition yet');
    },
    timeoutMs,
  );
}

/** Takes the APIService and the test's Service away: an API nobody serves holds up namespace deletions. */
export async function unregisterLogsApi(): Promise<void> {
  const objects = admin().makeApiClient(CustomObjectsApi);
  const core = admin().makeApiClient(CoreV1Api);
  const gone = (e: unknown) => {
    if (!(e instanceof ApiException && e.code === 404)) throw e;
  };
  await objects
    .deleteClusterCustomObject({
      group: 'apiregistration.k8s.io',
      version: 'v1',
      plural: 'apiservices',
      name: LOGS_API_SERVICE_NAME,
    })
    .catch(gone);
  await core.deleteNamespacedService({ name: TEST_SERVICE, namespace: NAMESPACE }).catch(gone);
  await core.deleteNamespacedEndpoints({ name: TEST_SERVICE, namespace: NAMESPACE }).catch(gone);
}

/** A reply of the logs API, as one of the harness identities got it through the API server. */
export interface LogsApiReply {
  readonly status: number;
  readonly text: string;
}

/** The path of a run's RunLogs object, or of its log. */
export const runLogsPath = (namespace: string, run: string, log: boolean, query: Record<string, string> = {}) =>
  `/apis/${LOGS_API.group}/${LOGS_API.version}/namespaces/${namespace}/${LOGS_API.resource}/${run}${
    log ? `/${LOGS_API.subresource}` : ''
  }${Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : ''}`;

/** Reads a path of the logs API as an identity, to its end. */
export async function readLogsApi(identity: string, path: string, signal?: AbortSignal): Promise<LogsApiReply> {
  const response = await requestApi(kubeConfigAs(identity), HttpMethod.GET, path, {
    headers: { accept: '*/*' },
    ...(signal ? { signal } : {}),
  });
  return { status: response.statusCode, text: await response.body.text() };
}
