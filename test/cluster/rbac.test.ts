import { afterAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { RUN_GROUP } from '../../controller/api/run.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { can, serviceAccountConfig } from '../support/access.js';
import { createRun, deleteRuns, runObject } from '../support/runs.js';

describe('RBAC as the platform grants it', () => {
  afterAll(async () => {
    await deleteRuns(kubeConfigAs('admin'), 'plinth-vision', ['from-editor']);
    await deleteRuns(kubeConfigAs('admin'), 'plinth-nlp', ['from-group']);
  });

  it('lets a viewer read runs but not create them', async () => {
    const viewer = kubeConfigAs('vision-observer');
    expect(await can(viewer, 'list', 'runs', { group: RUN_GROUP, namespace: 'plinth-vision' })).toBe(true);
    expect(await can(viewer, 'list', 'events', { namespace: 'plinth-vision' })).toBe(true);
    expect(await can(viewer, 'list', 'events', { group: 'events.k8s.io', namespace: 'plinth-vision' })).toBe(true);
    expect(await createRun(viewer, 'plinth-vision', runObject('from-viewer'))).toBe(403);
  });

  it("lets an editor create runs in their own team's namespace, not in another team's", async () => {
    const editor = kubeConfigAs('vision-dev');
    expect(await createRun(editor, 'plinth-vision', runObject('from-editor'))).toBe(201);
    expect(await createRun(editor, 'plinth-nlp', runObject('from-editor'))).toBe(403);
  });

  it('lets a group member edit through their group binding', async () => {
    const member = kubeConfigAs('nlp-researchers-member');
    expect(await createRun(member, 'plinth-nlp', runObject('from-group'))).toBe(201);
    expect(
      await can(member, 'create', 'rolebindings', { group: 'rbac.authorization.k8s.io', namespace: 'plinth-nlp' }),
    ).toBe(false);
  });

  it('lets a team admin manage membership but not the quota', async () => {
    const lead = kubeConfigAs('vision-lead');
    const ns = { namespace: 'plinth-vision' };
    expect(await can(lead, 'create', 'rolebindings', { group: 'rbac.authorization.k8s.io', ...ns })).toBe(true);
    expect(await can(lead, 'update', 'resourcequotas', ns)).toBe(false);
  });

  it('denies the run ServiceAccount any Secret', async () => {
    const run = await serviceAccountConfig('plinth-vision', 'plinth-run');
    const status = await run
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: 'plinth-vision' })
      .then(
        () => 200,
        (e: unknown) => (e instanceof ApiException ? e.code : 0),
      );
    expect(status).toBe(403);
    expect(await can(run, 'get', 'secrets', { namespace: 'plinth-vision' })).toBe(false);
    expect(await can(run, 'list', 'runs', { group: RUN_GROUP, namespace: 'plinth-vision' })).toBe(false);
  });

  it('gives the controller ServiceAccount exactly what reconciling needs', async () => {
    const controller = await serviceAccountConfig('plinth', 'plinth-controller');
    const team = { namespace: 'plinth-vision' };
    const allowed: [string, string, Parameters<typeof can>[3]][] = [
      ['watch', 'runs', { group: RUN_GROUP }],
      ['patch', 'runs', { group: RUN_GROUP, subresource: 'status', ...team }],
      // Finished runs past the platform's retention (controller/retention/).
      ['delete', 'runs', { group: RUN_GROUP, ...team }],
      ['create', 'jobs', { group: 'batch', ...team }],
      ['delete', 'jobs', { group: 'batch', ...team }],
      ['create', 'deployments', { group: 'apps', ...team }],
      ['create', 'services', team],
      ['list', 'pods', team],
      ['list', 'events', team],
      ['create', 'events', { group: 'events.k8s.io', ...team }],
      ['patch', 'events', { group: 'events.k8s.io', ...team }],
      ['get', 'configmaps', { namespace: 'plinth', name: 'plinth-controller' }],
      ['create', 'leases', { group: 'coordination.k8s.io', namespace: 'plinth' }],
      ['update', 'leases', { group: 'coordination.k8s.io', namespace: 'plinth', name: 'plinth-controller' }],
    ];
    const denied: [string, string, Parameters<typeof can>[3]][] = [
      ['get', 'secrets', team],
      ['list', 'secrets', { namespace: 'plinth' }],
      ['create', 'pods', team],
      // The Job and Deployment controllers delete pods; the controller deletes only its own children.
      ['delete', 'pods', team],
      ['update', 'runs', { group: RUN_GROUP, ...team }],
      ['update', 'jobs', { group: 'batch', ...team }],
      ['create', 'events', team],
      ['delete', 'events', { group: 'events.k8s.io', ...team }],
      ['create', 'runs', { group: RUN_GROUP, ...team }],
      ['get', 'configmaps', { namespace: 'plinth', name: 'other' }],
      ['update', 'leases', { group: 'coordination.k8s.io', namespace: 'plinth', name: 'other' }],
      ['update', 'resourcequotas', team],
      ['create', 'rolebindings', { group: 'rbac.authorization.k8s.io', ...team }],
    ];
    for (const [verb, resource, options] of allowed) {
      expect(await can(controller, verb, resource, options), `${verb} ${resource}`).toBe(true);
    }
    for (const [verb, resource, options] of denied) {
      expect(await can(controller, verb, resource, options), `${verb} ${resource}`).toBe(false);
    }
  });
});
