import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { APP_LABELS, componentLabels, podSecurityLabels, selectorLabels } from '../model/labels.js';
import {
  CONTROLLER_COMPONENT,
  STORE_EXPIRY_COMPONENT,
  STORE_USERS_COMPONENT,
  teamNamespaceName,
  TRACKING_COMPONENT,
} from '../model/names.js';
import { logArchiveOf } from '../model/log-archive.js';
import { CNPG_CLUSTER_LABEL, DATABASE_POD_LABELS } from './database.js';
import { AllowTraffic, artifactStoreEgress, DenyByDefault, namespacePeer, podsPeer, tcp } from './network-policies.js';

export interface PlatformNamespaceProps {
  readonly config: PlatformConfig;
}

/**
 * The namespace of the platform's own services, enforcing the restricted Pod Security Standard.
 * It denies all traffic by default; each service admits what it needs in a policy of its own, made
 * beside it (allow-controller, allow-tracking, allow-postgres, allow-acme-solver).
 */
export class PlatformNamespace extends Construct {
  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    const { config } = props;
    const labels = componentLabels(config.name, 'platform');
    new k8s.KubeNamespace(this, 'namespace', {
      metadata: { name: config.namespace, labels: { ...labels, ...podSecurityLabels('restricted') } },
    });
    new DenyByDefault(this, 'deny-by-default', { namespace: config.namespace, labels });

    // An in-cluster store the platform does not deploy may run here too: its clients are admitted
    // on its port. Its pods are not the platform's, so they are selected as every pod but the
    // platform's own services, which never get the store's port opened to them. The platform's
    // own store (artifacts.server) admits its clients itself, in allow-object-store.
    const store = artifactStoreEgress(config);
    if (store?.kind !== 'namespace' || store.namespace !== config.namespace) return;
    if (config.artifacts.kind === 's3' && config.artifacts.server) return;
    new AllowTraffic(this, 'allow-artifact-store', {
      metadata: { name: 'allow-artifact-store', namespace: config.namespace, labels },
      podSelector: {
        matchExpressions: [
          { key: APP_LABELS.name, operator: 'NotIn', values: [CONTROLLER_COMPONENT, TRACKING_COMPONENT] },
          { key: CNPG_CLUSTER_LABEL, operator: 'DoesNotExist' },
        ],
      },
      ingress: [{ from: artifactStoreClients(config), ports: [tcp(store.port)] }],
    });
  }
}

/**
 * Every client of an artifact store that runs in the platform namespace, which admits them on its
 * S3 port: the team namespaces (runs), the tracking server, Postgres (its backups), the Job that
 * makes each team's user and the controller (runs' logs).
 */
export function artifactStoreClients(config: PlatformConfig): k8s.NetworkPolicyPeer[] {
  const db = config.database;
  return [
    ...config.teams.map((t) => namespacePeer(teamNamespaceName(config, t.name))),
    podsPeer(selectorLabels(TRACKING_COMPONENT)),
    podsPeer(selectorLabels(STORE_USERS_COMPONENT)),
    // The platform's own store deletes what is past its retention with a CronJob of its own.
    ...(config.artifacts.kind === 's3' && config.artifacts.server
      ? [podsPeer(selectorLabels(STORE_EXPIRY_COMPONENT))]
      : []),
    // The controller archives runs' logs.
    ...(logArchiveOf(config) ? [podsPeer(selectorLabels(CONTROLLER_COMPONENT))] : []),
    ...(db.kind === 'cloudnative-pg' && db.backup.enabled ? [podsPeer(DATABASE_POD_LABELS)] : []),
  ];
}
