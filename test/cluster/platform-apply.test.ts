import { afterAll, describe, expect, it } from 'vitest';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { waitForDeploymentAvailable } from '../../local-cluster/deployment-readiness.js';
import { selectorLabels } from '../../model/labels.js';
import {
  CONTROLLER_COMPONENT,
  CONTROLLER_NAME,
  OBJECT_STORE_COMPONENT,
  TRACKING_COMPONENT,
} from '../../model/names.js';
import { environments } from '../../stacks/environments/index.js';
import { applyOrThrow, serverSideApply } from '../../local-cluster/server-side-apply.js';
import { cluster, eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { readLogsApi, runLogsPath, unregisterLogsApi, waitForLogsApi } from '../support/logs-api.js';
import { objectsOf, sharedPlatformObjects } from '../support/platform.js';

const admin = () => kubeConfigAs('admin');

// local last, so the cluster is left in the shape the other tests expect.
const ORDER = [...Object.keys(environments).filter((e) => e !== 'local'), 'local'];

describe('server-side validation of the whole platform', () => {
  afterAll(async () => {
    // The suites after this one run the controller themselves: no one serves the logs API then.
    await unregisterLogsApi();
    await applyOrThrow(admin(), sharedPlatformObjects());
  });

  // Every environment as a dry run (the admission webhooks of the operators that run here included);
  // only local for real, since the others name images and stores that do not exist here.
  it.each(ORDER)('accepts every %s object, as a dry run, and local for real', async (env) => {
    const objects = objectsOf(env);
    // Namespaces first: a dry run cannot place objects in a namespace that does not exist yet.
    await applyOrThrow(
      admin(),
      objects.filter((o) => o.kind === 'Namespace'),
    );
    expect(await serverSideApply(admin(), objects, { dryRun: true })).toEqual([]);
    if (env === 'local') expect(await serverSideApply(admin(), objects)).toEqual([]);
  });

  it('reports a rejected object by name, with the API server message', async () => {
    const [crd] = objectsOf('local').filter((o) => o.kind === 'ClusterRole');
    const broken = { ...crd, rules: [{ verbs: ['get'] }] } as KubernetesObject;
    const failures = await serverSideApply(admin(), [broken], { dryRun: true });
    expect(failures).toHaveLength(1);
    expect(failures[0]?.object).toBe('ClusterRole plinth-viewer');
    expect(failures[0]?.message).toMatch(/rules\[0\]\.(apiGroups|resources)/);
  });

  it('runs the platform on the real core nodes: the controller elected, MLflow on Postgres, the store', async () => {
    if (cluster().realNodes.length === 0) {
      throw new Error('the platform runs on real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    }
    const kc = admin();
    // The first apply above ran the in-cluster controller at its configured replicas.
    for (const name of [CONTROLLER_COMPONENT, TRACKING_COMPONENT, OBJECT_STORE_COMPONENT]) {
      await waitForDeploymentAvailable(kc, 'plinth', name, 240_000);
    }
    const database = await eventually(
      'Postgres to be healthy',
      async () => {
        const cluster = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
          group: 'postgresql.cnpg.io',
          version: 'v1',
          namespace: 'plinth',
          plural: 'clusters',
          name: 'plinth-db',
        })) as { status?: { phase?: string; readyInstances?: number } };
        return cluster.status?.phase === 'Cluster in healthy state' ? cluster.status : undefined;
      },
      240_000,
    );
    expect(database.readyInstances).toBe(1);
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({
      namespace: 'plinth',
      labelSelector: Object.entries(selectorLabels(CONTROLLER_COMPONENT))
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    });
    const names = pods.items.map((p) => p.metadata?.name);
    expect(names).toHaveLength(2);
    const lease = await eventually('a controller replica to hold the lease', async () => {
      const l = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: CONTROLLER_NAME, namespace: 'plinth' });
      return names.includes(l.spec?.holderIdentity) ? l.spec?.holderIdentity : undefined;
    });
    expect(names).toContain(lease);
  });

  it('serves the logs API from the in-cluster controller, through the API server, to whom RBAC lets read', async () => {
    // Available once a replica has issued its certificate into the APIService and the API server
    // reached it through the Service, past the controller's NetworkPolicy.
    await waitForLogsApi(120_000);
    const missing = await readLogsApi('vision-observer', runLogsPath('plinth-vision', 'no-such-run', true));
    expect(missing.status, missing.text).toBe(404);
    expect(missing.text).toContain('run \\"no-such-run\\" not found in plinth-vision');
    const otherTeam = await readLogsApi('nlp-researchers-member', runLogsPath('plinth-vision', 'no-such-run', true));
    expect(otherTeam.status).toBe(403);
  });

  it('admits the platform pods under the restricted Pod Security Standard', async () => {
    const apps = admin().makeApiClient(AppsV1Api);
    const core = admin().makeApiClient(CoreV1Api);
    // Admitted and placed one replica on each core node, as their required anti-affinity asks.
    for (const name of ['controller', 'tracking']) {
      const pods = await eventually(`${name} to have every replica's pod scheduled`, async () => {
        const d = await apps.readNamespacedDeployment({ name, namespace: 'plinth' });
        const list = await core.listNamespacedPod({
          namespace: 'plinth',
          labelSelector: Object.entries(d.spec?.selector.matchLabels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        });
        const scheduled = list.items.filter((p) => p.spec?.nodeName);
        return scheduled.length === d.spec?.replicas ? scheduled : undefined;
      });
      expect(new Set(pods.map((p) => p.spec?.nodeName))).toEqual(new Set(['core-0', 'core-1']));
    }
    const events = await core.listNamespacedEvent({ namespace: 'plinth' });
    expect(events.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message)).toEqual([]);
  });
});
