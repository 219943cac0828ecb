import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import type { Team } from '../model/config/teams.js';
import { GPU_RESOURCE } from '../model/pools.js';
import { RUN_GROUP, RUN_PLURAL } from '../controller/api/run.js';
import { SYSTEM_PRIORITY_CLASSES } from '../model/priority-classes.js';
import { teamArtifactConnection } from '../model/artifacts.js';
import { TlsCertificate } from './ingress.js';
import {
  teamRunsHost,
  teamNamespaceName,
  RUNS_CERTIFICATE,
  RUN_SERVICE_ACCOUNT,
  TRACKING_COMPONENT,
  TRACKING_PORT,
} from '../model/names.js';
import { componentLabels, PLINTH_LABELS, podSecurityLabels, selectorLabels } from '../model/labels.js';
import { TEAM_ROLE_CLUSTER_ROLES, type TeamRole } from './rbac.js';
import { runConnection, teamConnections } from '../model/connections.js';
import {
  AllowTraffic,
  anyAddressWaiver,
  artifactStoreEgress,
  DenyByDefault,
  egressTo,
  namespacePeer,
  podsPeer,
  tcp,
} from './network-policies.js';

export const TEAM_COMPONENT = 'team';
/**
 * The least a container of a team namespace may request. The LimitRange refuses less, so that
 * each pod slot costs some of the team's quota; a few millicores is what an idle process uses.
 */
export const MIN_CONTAINER_REQUEST = { cpu: '10m', memory: '16Mi' } as const;
/** Pods of external run services carry this label, so the ingress controller may reach them. */
export const RUN_SERVICE_LABEL = { [PLINTH_LABELS.serves]: 'true' };
export interface TeamNamespaceProps {
  readonly config: PlatformConfig;
  readonly team: Team;
}

/**
 * A team's namespace: restricted Pod Security, a ResourceQuota with the GPU share, LimitRange
 * defaults, default-deny NetworkPolicies with the few allowances runs need, membership
 * RoleBindings, the run ServiceAccount, and the certificate for the team's run services.
 */
export class TeamNamespace extends Construct {
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: TeamNamespaceProps) {
    super(scope, id);
    const { config, team } = props;
    const namespace = teamNamespaceName(config, team.name);
    this.namespace = namespace;
    const labels = { ...componentLabels(config.name, TEAM_COMPONENT), [PLINTH_LABELS.team]: team.name };
    const metadata = (name: string) => ({ name, namespace, labels });

    new k8s.KubeNamespace(this, 'namespace', {
      metadata: { name: namespace, labels: { ...labels, ...podSecurityLabels('restricted') } },
    });

    new k8s.KubeResourceQuota(this, 'quota', {
      metadata: metadata('team-quota'),
      spec: {
        hard: {
          'requests.cpu': k8s.Quantity.fromString(team.quota.cpu),
          'limits.cpu': k8s.Quantity.fromString(team.quota.cpu),
          'requests.memory': k8s.Quantity.fromString(team.quota.memory),
          'limits.memory': k8s.Quantity.fromString(team.quota.memory),
          [`requests.${GPU_RESOURCE}`]: k8s.Quantity.fromNumber(team.quota.gpu),
          // Counts, so that no team fills the nodes' pod slots, the API server or the controller's memory.
          pods: k8s.Quantity.fromNumber(team.quota.pods),
          services: k8s.Quantity.fromNumber(team.quota.services),
          'count/ingresses.networking.k8s.io': k8s.Quantity.fromNumber(team.quota.ingresses),
        },
      },
    });
    // A quota of its own: every create of an object a quota counts updates that quota's status, so
    // Runs submitted in bulk would otherwise conflict with the pods their Jobs create.
    new k8s.KubeResourceQuota(this, 'run-quota', {
      metadata: metadata('team-runs'),
      spec: { hard: { [`count/${RUN_PLURAL}.${RUN_GROUP}`]: k8s.Quantity.fromNumber(team.quota.runs) } },
    });
    // Backstops of what the Run CRD refuses, for pods however they come to be: none of a system
    // priority class, which would preempt any other team's pods, and none whose pod affinity
    // reaches other namespaces, which could keep another team's pods off every node.
    new k8s.KubeResourceQuota(this, 'no-system-priority', {
      metadata: metadata('no-system-priority'),
      spec: {
        hard: { pods: k8s.Quantity.fromNumber(0) },
        scopeSelector: {
          matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: [...SYSTEM_PRIORITY_CLASSES] }],
        },
      },
    });
    new k8s.KubeResourceQuota(this, 'no-cross-namespace-affinity', {
      metadata: metadata('no-cross-namespace-affinity'),
      spec: { hard: { pods: k8s.Quantity.fromNumber(0) }, scopes: ['CrossNamespacePodAffinity'] },
    });

    // Quota on limits needs every container to declare them; these defaults fill the gaps.
    new k8s.KubeLimitRange(this, 'limits', {
      metadata: metadata('team-defaults'),
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('256Mi') },
            default: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') },
            // A floor under every request, so that a pod slot always costs some of the team's quota.
            min: {
              cpu: k8s.Quantity.fromString(MIN_CONTAINER_REQUEST.cpu),
              memory: k8s.Quantity.fromString(MIN_CONTAINER_REQUEST.memory),
            },
          },
        ],
      },
    });

    this.networkPolicies(config, team, namespace, labels);

    const byRole = new Map<TeamRole, Team['members']>();
    for (const m of team.members) byRole.set(m.role, [...(byRole.get(m.role) ?? []), m]);
    for (const role of ['admin', 'editor', 'viewer'] as const) {
      const members = byRole.get(role);
      if (!members) continue;
      new k8s.KubeRoleBinding(this, `${role}-binding`, {
        metadata: metadata(`team-${role}`),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: TEAM_ROLE_CLUSTER_ROLES[role] },
        subjects: members.map((m) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: m.kind, name: m.name })),
      });
    }

    // Every account a run may act as carries the team's own workload identity, if the store has
    // one, whose trust names exactly these accounts.
    const annotations = teamArtifactConnection(config.artifacts, team.name).serviceAccountAnnotations;
    new k8s.KubeServiceAccount(this, 'run-service-account', {
      metadata: { ...metadata(RUN_SERVICE_ACCOUNT), annotations },
      automountServiceAccountToken: false,
    });
    // The accounts the config gives the team's runs: the platform makes them, so that no other
    // account of the namespace, whatever a team admin binds to it, can carry a run.
    for (const account of team.serviceAccounts) {
      new k8s.KubeServiceAccount(this, `service-account-${account.name}`, {
        metadata: { ...metadata(account.name), annotations },
        automountServiceAccountToken: account.mountToken,
      });
    }

    new TlsCertificate(this, 'runs-certificate', {
      config,
      namespace,
      name: RUNS_CERTIFICATE,
      host: teamRunsHost(config, team.name),
      component: TEAM_COMPONENT,
    });
  }

  private networkPolicies(config: PlatformConfig, team: Team, namespace: string, labels: Record<string, string>) {
    const metadata = (name: string) => ({ name, namespace, labels });
    new DenyByDefault(this, 'deny-by-default', { namespace, labels });
    // Runs log parameters, metrics and models to the tracking server.
    new AllowTraffic(this, 'allow-tracking', {
      metadata: metadata('allow-tracking'),
      podSelector: {},
      egress: [
        {
          to: [{ ...namespacePeer(config.namespace), ...podsPeer(selectorLabels(TRACKING_COMPONENT)) }],
          ports: [tcp(TRACKING_PORT)],
        },
      ],
    });
    // Runs read their inputs from the artifact store and write their outputs and logs to it: to
    // its address only, on its port, since every pod of the namespace gets this rule.
    const store = artifactStoreEgress(config);
    if (store) {
      new AllowTraffic(this, 'allow-artifact-store', {
        metadata: { ...metadata('allow-artifact-store'), annotations: anyAddressWaiver(store) },
        podSelector: {},
        egress: [egressTo(store)],
      });
    }
    // What a connection reaches, from the pods of the runs that name it (the controller labels them).
    for (const connection of teamConnections(config, team)) {
      if (!connection.egress) continue;
      const { ports, to } = connection.egress;
      const name = `allow-connection-${connection.name}`;
      new AllowTraffic(this, name, {
        metadata: metadata(name),
        podSelector: { matchLabels: runConnection(connection).labels },
        egress: [
          { ...(to.length > 0 ? { to: to.map((cidr) => ({ ipBlock: { cidr } })) } : {}), ports: ports.map(tcp) },
        ],
      });
    }
    // The ingress controller serves external run services, and only those.
    new AllowTraffic(this, 'allow-ingress-controller', {
      metadata: metadata('allow-ingress-controller'),
      podSelector: { matchLabels: RUN_SERVICE_LABEL },
      ingress: [{ from: [namespacePeer(config.ingress.controllerNamespace)] }],
    });
  }
}
