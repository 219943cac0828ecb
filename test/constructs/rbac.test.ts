import { describe, expect, it } from 'vitest';
import { MANAGED_RESOURCES, VERBS, groupOf, resourceOfUse } from '../../controller/api/children.js';
import { LOGS_API, LOGS_API_CLUSTER_GRANTS, LOGS_API_SERVING_SECRET } from '../../controller/api/logs.js';
import { find, objectsOf, ofKind } from '../support/platform.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const rulesOf = (o: unknown) => (o as { rules: Rule[] }).rules;
const allows = (rules: Rule[], group: string, resource: string, verb: string) =>
  rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

describe('team ClusterRoles', () => {
  const objects = objectsOf('local');
  const viewer = rulesOf(find(objects, 'ClusterRole', 'plinth-viewer'));
  const editor = rulesOf(find(objects, 'ClusterRole', 'plinth-editor'));
  const admin = rulesOf(find(objects, 'ClusterRole', 'plinth-admin'));

  it('lets viewers only read', () => {
    for (const rule of viewer) {
      // The logs API serves one object at a time, so `get` is all there is to grant.
      expect(rule.verbs).toEqual(rule.apiGroups.includes(LOGS_API.group) ? ['get'] : ['get', 'list', 'watch']);
    }
    expect(allows(viewer, '', 'pods/log', 'get')).toBe(true);
    expect(allows(viewer, LOGS_API.group, 'runlogs/log', 'get')).toBe(true);
    expect(allows(viewer, 'plinth.dev', 'runs', 'create')).toBe(false);
  });

  it('lets viewers read events through both APIs: kubectl describe reads core, newer clients events.k8s.io', () => {
    expect(allows(viewer, '', 'events', 'list')).toBe(true);
    expect(allows(viewer, 'events.k8s.io', 'events', 'list')).toBe(true);
    expect(allows(viewer, 'events.k8s.io', 'events', 'create')).toBe(false);
  });

  it('lets editors create and stop runs, but not manage the team', () => {
    expect(allows(editor, 'plinth.dev', 'runs', 'create')).toBe(true);
    expect(allows(editor, 'plinth.dev', 'runs', 'patch')).toBe(true);
    expect(allows(editor, 'rbac.authorization.k8s.io', 'rolebindings', 'create')).toBe(false);
    expect(allows(editor, '', 'secrets', 'get')).toBe(false);
  });

  it('lets admins manage membership and connections, but never the quota', () => {
    expect(allows(admin, 'rbac.authorization.k8s.io', 'rolebindings', 'create')).toBe(true);
    expect(allows(admin, '', 'secrets', 'create')).toBe(true);
    expect(allows(admin, '', 'resourcequotas', 'update')).toBe(false);
  });

  it("gives platform admins a viewer's read of every namespace, and nothing more", () => {
    const platformAdmin = find(objects, 'ClusterRole', 'plinth-platform-admin');
    expect(rulesOf(platformAdmin)).toEqual(viewer);
    const binding = find(objects, 'ClusterRoleBinding', 'plinth-platform-admin') as unknown as {
      subjects: { kind: string; name: string }[];
    };
    expect(binding.subjects.map((s) => `${s.kind}/${s.name}`)).toEqual(['Group/platform-engineers']);
  });

  it('grants no wildcard and binds nothing to cluster-admin', () => {
    for (const role of [...ofKind(objects, 'ClusterRole'), ...ofKind(objects, 'Role')]) {
      for (const rule of rulesOf(role)) {
        expect([...rule.verbs, ...rule.resources, ...rule.apiGroups], role.metadata.name).not.toContain('*');
      }
    }
    for (const binding of [...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')]) {
      expect((binding as unknown as { roleRef: { name: string } }).roleRef.name).not.toBe('cluster-admin');
    }
  });
});

describe('controller RBAC', () => {
  const objects = objectsOf('local');
  const cluster = rulesOf(find(objects, 'ClusterRole', 'plinth-controller'));
  const local = rulesOf(find(objects, 'Role', 'plinth-controller', 'plinth'));

  it('manages run children and reads diagnosis inputs, but cannot read Secrets', () => {
    expect(allows(cluster, 'batch', 'jobs', 'patch')).toBe(true);
    expect(allows(cluster, 'batch', 'jobs', 'delete')).toBe(true);
    expect(allows(cluster, 'plinth.dev', 'runs/status', 'patch')).toBe(true);
    expect(allows(cluster, '', 'events', 'list')).toBe(true);
    expect(allows(cluster, '', 'pods', 'create')).toBe(false);
    expect(cluster.some((r) => r.resources.includes('secrets'))).toBe(false);
  });

  it('reads and rewrites only its own serving Secret, in its own namespace; patches only its own APIService', () => {
    const secretRules = local.filter((r) => r.resources.includes('secrets'));
    for (const rule of secretRules) {
      // RBAC cannot restrict a create to a name: everything else names the one Secret.
      if (!rule.verbs.every((v) => v === 'create')) expect(rule.resourceNames).toEqual([LOGS_API_SERVING_SECRET]);
    }
    expect(secretRules.flatMap((r) => r.verbs).sort()).toEqual(['create', 'get', 'update']);
    const apiServices = cluster.filter((r) => r.resources.includes('apiservices'));
    expect(apiServices).toEqual([
      expect.objectContaining({ resourceNames: ['v1alpha1.logs.plinth.dev'], verbs: ['get', 'patch'] }),
    ]);
  });

  it('grants exactly the verbs that what the controller does with each resource needs, and no other', () => {
    const granted = new Set(
      cluster.flatMap((r) =>
        r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))),
      ),
    );
    const needed = new Set([
      ...MANAGED_RESOURCES.flatMap((r) =>
        r.uses.flatMap((use) => VERBS[use].map((v) => `${groupOf(r.apiVersion)}/${resourceOfUse(r, use)}:${v}`)),
      ),
      ...LOGS_API_CLUSTER_GRANTS.flatMap((g) =>
        g.resources.flatMap((res) => g.verbs.map((v) => `${g.apiGroups[0]}/${res}:${v}`)),
      ),
    ]);
    expect([...granted].sort()).toEqual([...needed].sort());
    // What was granted once and never used: updating runs, their finalizers, creating bare Jobs.
    for (const unused of [
      'plinth.dev/runs:update',
      'plinth.dev/runs:patch',
      'plinth.dev/runs/finalizers:update',
      'batch/jobs:update',
      // Pods are patched (a finalizer off) and their logs read, never created, updated or deleted.
      '/pods:create',
      '/pods:update',
      '/pods:delete',
    ]) {
      expect(granted).not.toContain(unused);
    }
  });

  it('writes Events through events.k8s.io only, as its recorder does, and never deletes them', () => {
    const writes = cluster.filter((r) => r.resources.includes('events') && !r.verbs.includes('list'));
    expect(writes).toEqual([{ apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] }]);
    expect(allows(cluster, '', 'events', 'create')).toBe(false);
  });

  it('reads only its own ConfigMap and renews only its own Lease', () => {
    expect(local.find((r) => r.resources.includes('configmaps'))?.resourceNames).toEqual(['plinth-controller']);
    expect(local.find((r) => r.verbs.includes('update'))?.resourceNames).toEqual(['plinth-controller']);
  });
});
