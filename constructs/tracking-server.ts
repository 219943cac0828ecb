import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { trackingArtifactConnection } from '../model/artifacts.js';
import { CoreService } from './core-service.js';
import { databaseConnection, databaseEgress } from './database.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import {
  CONTROLLER_COMPONENT,
  teamNamespaceName,
  trackingAllowedHosts,
  TRACKING_COMPONENT,
  TRACKING_PORT,
} from '../model/names.js';
import { cdk8sEnv, cdk8sVolumes } from './k8s-boundary.js';
import { AllowTraffic, artifactStoreEgress, egressTo, namespacePeer, podsPeer, tcp } from './network-policies.js';

/**
 * Worker processes per replica. Each is a whole MLflow server of a few hundred MB (uvicorn serves
 * its requests from a thread pool), so the platform scales MLflow by replicas, within their limits.
 */
const TRACKING_WORKERS = 1;

export interface TrackingServerProps {
  readonly config: PlatformConfig;
}

/**
 * MLflow: Postgres as the backend store, the artifact store as the artifact root. The database
 * password reaches the process through env from its Secret, never through the manifest.
 */
export class TrackingServer extends Construct {
  constructor(scope: Construct, id: string, props: TrackingServerProps) {
    super(scope, id);
    const { config } = props;
    // Its own credential: every team's outputs and its default root, not the logs or Postgres's backups.
    const artifacts = trackingArtifactConnection(config.artifacts);
    const db = databaseConnection(config);

    const labels = componentLabels(config.name, TRACKING_COMPONENT);
    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: {
        name: TRACKING_COMPONENT,
        namespace: config.namespace,
        labels,
        annotations: artifacts.serviceAccountAnnotations,
      },
      automountServiceAccountToken: false,
    });

    const probe = (initialDelaySeconds: number): k8s.Probe => ({
      httpGet: { path: '/health', port: k8s.IntOrString.fromString('http') },
      initialDelaySeconds,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });

    new CoreService(this, 'service', {
      config,
      component: TRACKING_COMPONENT,
      image: config.images.trackingServer,
      replicas: config.tracking.replicas,
      resources: config.tracking.resources,
      ports: [{ name: 'http', port: TRACKING_PORT }],
      command: ['mlflow', 'server'],
      args: [
        '--host=0.0.0.0',
        `--port=${TRACKING_PORT}`,
        `--default-artifact-root=${artifacts.uri}`,
        '--expose-prometheus=/tmp/metrics',
        `--allowed-hosts=${trackingAllowedHosts(config).join(',')}`,
        // Each worker is a whole MLflow process; replicas, not workers, are how it scales here.
        `--workers=${TRACKING_WORKERS}`,
      ],
      env: [
        { name: 'DB_USER', valueFrom: { secretKeyRef: { name: db.credentialsSecret, key: 'username' } } },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: db.credentialsSecret, key: 'password' } } },
        // $(VAR) is expanded by the kubelet from the entries above, so the URI never holds the password.
        // The driver is named: SQLAlchemy 2.1 takes a bare postgresql:// to mean psycopg 3, and the
        // image has psycopg2.
        {
          name: 'MLFLOW_BACKEND_STORE_URI',
          value: `postgresql+psycopg2://$(DB_USER):$(DB_PASSWORD)@${db.host}:${db.port}/${db.database}?sslmode=${db.sslMode}`,
        },
        // MLflow's server-side jobs (GenAI scorers and their periodic tasks) start a Python process
        // each, hundreds of MB apiece; the platform runs workloads as Runs, not inside MLflow.
        { name: 'MLFLOW_SERVER_ENABLE_JOB_EXECUTION', value: 'false' },
        ...cdk8sEnv(artifacts.env),
      ],
      volumes: cdk8sVolumes(artifacts.volumes),
      volumeMounts: artifacts.volumeMounts,
      livenessProbe: probe(30),
      readinessProbe: probe(5),
    });

    const store = artifactStoreEgress(config);
    new AllowTraffic(this, 'network-policy', {
      metadata: { name: 'allow-tracking', namespace: config.namespace, labels },
      podSelector: { matchLabels: selectorLabels(TRACKING_COMPONENT) },
      ingress: [
        {
          from: [
            // Runs log to it from their team namespaces.
            ...config.teams.map((t) => namespacePeer(teamNamespaceName(config, t.name))),
            // People reach its UI and API through the ingress.
            namespacePeer(config.ingress.controllerNamespace),
            // The controller makes each run's MLflow run and ends it (controller/tracking/).
            podsPeer(selectorLabels(CONTROLLER_COMPONENT)),
            // Prometheus scrapes its /metrics, on the same port.
            ...(config.monitoring.enabled ? [namespacePeer(config.monitoring.prometheusNamespace)] : []),
          ],
          ports: [tcp(TRACKING_PORT)],
        },
      ],
      egress: [
        // Runs, experiments and metrics are stored in Postgres.
        databaseEgress(config),
        // Artifacts logged through it are stored in, and served from, the artifact store.
        ...(store ? [egressTo(store)] : []),
      ],
    });
  }
}
