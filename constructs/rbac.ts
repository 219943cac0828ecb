import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import { LOGS_API } from '../controller/api/logs.js';
import { RUN_GROUP, RUN_PLURAL } from '../controller/api/run.js';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels } from '../model/labels.js';

export type TeamRole = 'admin' | 'editor' | 'viewer';

/** The ClusterRole each team role is bound to inside a team namespace. */
export const TEAM_ROLE_CLUSTER_ROLES: Record<TeamRole, string> = {
  viewer: 'plinth-viewer',
  editor: 'plinth-editor',
  admin: 'plinth-admin',
};

/** The ClusterRole of those who run the platform: they read every team's runs and logs. */
export const PLATFORM_ADMIN_CLUSTER_ROLE = 'plinth-platform-admin';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];

/** What a viewer sees: runs, their workloads, pods, logs and events. Nothing else. */
const viewerRules: k8s.PolicyRule[] = [
  { apiGroups: [RUN_GROUP], resources: [RUN_PLURAL, `${RUN_PLURAL}/status`], verbs: READ },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: READ },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: READ },
  {
    apiGroups: [''],
    resources: ['pods', 'pods/log', 'services', 'events', 'resourcequotas', 'limitranges'],
    verbs: READ,
  },
  // `kubectl describe` (1.34) reads the core events above. The same events read through
  // events.k8s.io (`kubectl get events.events.k8s.io`, newer clients) need a rule of their own:
  // authorization tells the two groups apart.
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  // Runs' logs, live and archived, through the platform's read API (controller/logs-api/).
  {
    apiGroups: [LOGS_API.group],
    resources: [LOGS_API.resource, `${LOGS_API.resource}/${LOGS_API.subresource}`],
    verbs: ['get'],
  },
];

/** Editors create, change and stop runs (stopping is a patch of spec.stopped). */
const editorRules: k8s.PolicyRule[] = [
  ...viewerRules,
  { apiGroups: [RUN_GROUP], resources: [RUN_PLURAL], verbs: WRITE },
];

/**
 * Team admins also manage the team's membership and its connections' Secrets and ConfigMaps.
 * Quotas stay with platform engineers: a team cannot raise its own GPU share.
 */
const adminRules: k8s.PolicyRule[] = [
  ...editorRules,
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: [...READ, ...WRITE] },
  { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: [...READ, ...WRITE] },
];

const RULES: Record<TeamRole, k8s.PolicyRule[]> = { viewer: viewerRules, editor: editorRules, admin: adminRules };

export interface TeamRolesProps {
  readonly config: PlatformConfig;
}

/**
 * The admin, editor and viewer ClusterRoles, bound per team namespace by TeamNamespace, and the
 * platform admins' read of every namespace: what a viewer reads, everywhere, bound cluster-wide to
 * the config's `platformAdmins`. Changing a team's runs stays with the team.
 */
export class TeamRoles extends Construct {
  constructor(scope: Construct, id: string, props: TeamRolesProps) {
    super(scope, id);
    const labels = componentLabels(props.config.name, 'rbac');
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      new k8s.KubeClusterRole(this, role, {
        metadata: { name: TEAM_ROLE_CLUSTER_ROLES[role], labels },
        rules: RULES[role],
      });
    }
    new k8s.KubeClusterRole(this, 'platform-admin', {
      metadata: { name: PLATFORM_ADMIN_CLUSTER_ROLE, labels },
      rules: viewerRules,
    });
    if (props.config.platformAdmins.length > 0) {
      new k8s.KubeClusterRoleBinding(this, 'platform-admin-binding', {
        metadata: { name: PLATFORM_ADMIN_CLUSTER_ROLE, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PLATFORM_ADMIN_CLUSTER_ROLE },
        subjects: props.config.platformAdmins.map((s) => ({
          kind: s.kind,
          name: s.name,
          apiGroup: 'rbac.authorization.k8s.io',
        })),
      });
    }
  }
}
