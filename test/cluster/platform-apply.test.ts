import { afterAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { environments } from '../../stacks/environments/index.js';
import { applyOrThrow, serverSideApply } from '../../local-cluster/server-side-apply.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { objectsOf } from '../support/platform.js';

const admin = () => kubeConfigAs('admin');

// local last, so the cluster is left in the shape the other tests expect.
const ORDER = [...Object.keys(environments).filter((e) => e !== 'local'), 'local'];

describe('server-side validation of the whole platform', () => {
  afterAll(async () => {
    await applyOrThrow(admin(), objectsOf('local'));
  });

  it.each(ORDER)('accepts every %s object, first as a dry run, then for real', async (env) => {
    const objects = objectsOf(env);
    // Namespaces first: a dry run cannot place objects in a namespace that does not exist yet.
    await applyOrThrow(
      admin(),
      objects.filter((o) => o.kind === 'Namespace'),
    );
    expect(await serverSideApply(admin(), objects, { dryRun: true })).toEqual([]);
    expect(await serverSideApply(admin(), objects)).toEqual([]);
  });

  it('reports a rejected object by name, with the API server message', async () => {
    const [crd] = objectsOf('local').filter((o) => o.kind === 'ClusterRole');
    const broken = { ...crd, rules: [{ verbs: ['get'] }] } as KubernetesObject;
    const failures = await serverSideApply(admin(), [broken], { dryRun: true });
    expect(failures).toHaveLength(1);
    expect(failures[0]?.object).toBe('ClusterRole plinth-viewer');
    expect(failures[0]?.message).toMatch(/rules\[0\]\.(apiGroups|resources)/);
  });

  it('admits the platform pods under the restricted Pod Security Standard', async () => {
    const apps = admin().makeApiClient(AppsV1Api);
    const core = admin().makeApiClient(CoreV1Api);
    // Admitted and placed: on the real core nodes they run once the platform's images are the
    // ones built here (the local environment still names upstream images it cannot pull).
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
