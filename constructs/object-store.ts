import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import {
  OBJECT_STORE_COMPONENT,
  OBJECT_STORE_HEALTH_PATH,
  OBJECT_STORE_PORTS,
  OBJECT_STORE_ROOT_KEYS,
  STORE_USERS_COMPONENT,
} from '../model/names.js';
import { corePlacement } from '../model/pools.js';
import { containerSecurityContext, podSecurityContext } from '../model/security-floor.js';
import { AllowTraffic, podsPeer, tcp } from './network-policies.js';
import { artifactStoreClients } from './platform-namespace.js';

/**
 * Where the claim is mounted, and the three folders on it: the objects (one folder per bucket),
 * their metadata and the bucket policy (the sidecar), and the users.
 */
const DATA_PATH = '/data';
const FOLDERS = { objects: `${DATA_PATH}/objects`, metadata: `${DATA_PATH}/metadata`, users: `${DATA_PATH}/users` };

const quantity = (value: string) => k8s.Quantity.fromString(value);

export interface ObjectStoreProps {
  readonly config: PlatformConfig;
}

/**
 * The S3-compatible store the platform deploys when `artifacts.server` asks for one: versitygw
 * serving a folder of its claim, with per-user keys (made by the StoreUsers Job) and a bucket
 * policy that scopes each user to its prefixes. Its root keys come from the Secret
 * `artifacts.server.rootSecret`, which the deployer writes; the manifests carry none.
 */
export class ObjectStore extends Construct {
  constructor(scope: Construct, id: string, props: ObjectStoreProps) {
    super(scope, id);
    const { config } = props;
    const store = config.artifacts;
    if (store.kind !== 's3' || !store.server)
      throw new Error('unreachable: the platform deploys its store only with artifacts.server');
    const server = store.server;
    const namespace = config.namespace;
    const labels = componentLabels(config.name, OBJECT_STORE_COMPONENT);
    const selector = selectorLabels(OBJECT_STORE_COMPONENT);
    const metadata = { name: OBJECT_STORE_COMPONENT, namespace, labels };
    const placement = corePlacement(config);

    // One claim, one writer: the posix backend keeps its users in one file and each object's
    // metadata beside it, which two servers would race on.
    new k8s.KubePersistentVolumeClaim(this, 'claim', {
      metadata,
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: server.storage.storageClass,
        resources: { requests: { storage: quantity(server.storage.size) } },
      },
    });

    new k8s.KubeServiceAccount(this, 'service-account', { metadata, automountServiceAccountToken: false });

    const probe = (initialDelaySeconds: number): k8s.Probe => ({
      httpGet: { path: OBJECT_STORE_HEALTH_PATH, port: k8s.IntOrString.fromString('s3') },
      initialDelaySeconds,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    const root = (key: string): k8s.EnvVarSource => ({ secretKeyRef: { name: server.rootSecret, key } });
    const dataMount: k8s.VolumeMount = { name: 'data', mountPath: DATA_PATH };

    new k8s.KubeDeployment(this, 'deployment', {
      metadata,
      spec: {
        // A single writer on a ReadWriteOnce claim: a second replica could not mount it elsewhere,
        // and on the same node would race the first on the users file and metadata.
        replicas: 1,
        selector: { matchLabels: selector },
        // The old pod lets go of the claim before the new one starts: a surge pod would wait for a
        // claim still attached to the old pod's node, and the rollout would stall.
        strategy: { type: 'Recreate' },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: OBJECT_STORE_COMPONENT,
            automountServiceAccountToken: false,
            securityContext: {
              ...podSecurityContext(config.security),
              // A claim full of objects is not walked again on every start, only when its root's
              // group is not the pod's.
              fsGroupChangePolicy: 'OnRootMismatch',
            },
            nodeSelector: placement.nodeSelector,
            tolerations: placement.tolerations,
            // versitygw refuses to start without its folders; the image is the binary alone, no
            // shell, so the init image makes them, as the pod's user, on a fresh claim.
            initContainers: [
              {
                name: 'folders',
                image: config.images.init,
                imagePullPolicy: 'IfNotPresent',
                command: ['mkdir', '-p', FOLDERS.objects, FOLDERS.metadata, FOLDERS.users],
                resources: {
                  requests: { cpu: quantity('10m'), memory: quantity('16Mi') },
                  limits: { cpu: quantity('100m'), memory: quantity('64Mi') },
                },
                securityContext: containerSecurityContext(),
                volumeMounts: [dataMount],
              },
            ],
            containers: [
              {
                name: OBJECT_STORE_COMPONENT,
                image: config.images.objectStore,
                imagePullPolicy: 'IfNotPresent',
                // The image's entrypoint is versitygw.
                args: [
                  `--port=:${OBJECT_STORE_PORTS.s3}`,
                  // Users are made on a port of their own, which only the store-users Job reaches.
                  `--admin-port=:${OBJECT_STORE_PORTS.admin}`,
                  // Clients sign for the config's region; a request signed for another is refused.
                  `--region=${store.region}`,
                  // Users in a file on the claim, so they outlive the pod.
                  `--iam-dir=${FOLDERS.users}`,
                  `--health=${OBJECT_STORE_HEALTH_PATH}`,
                  // One line per request would drown the log at the rate runs write; errors are still logged.
                  '--quiet',
                  'posix',
                  // Metadata, the bucket policy among it, in files rather than extended attributes,
                  // which ext4 caps near 4 KB: about five teams' statements.
                  `--sidecar=${FOLDERS.metadata}`,
                  FOLDERS.objects,
                ],
                env: [
                  { name: OBJECT_STORE_ROOT_KEYS.accessKeyId, valueFrom: root(OBJECT_STORE_ROOT_KEYS.accessKeyId) },
                  {
                    name: OBJECT_STORE_ROOT_KEYS.secretAccessKey,
                    valueFrom: root(OBJECT_STORE_ROOT_KEYS.secretAccessKey),
                  },
                ],
                ports: [
                  { name: 's3', containerPort: OBJECT_STORE_PORTS.s3, protocol: 'TCP' },
                  { name: 'admin', containerPort: OBJECT_STORE_PORTS.admin, protocol: 'TCP' },
                ],
                resources: {
                  requests: {
                    cpu: quantity(server.resources.requests.cpu),
                    memory: quantity(server.resources.requests.memory),
                  },
                  limits: {
                    cpu: quantity(server.resources.limits.cpu),
                    memory: quantity(server.resources.limits.memory),
                  },
                },
                livenessProbe: probe(10),
                readinessProbe: probe(2),
                securityContext: containerSecurityContext(),
                volumeMounts: [dataMount, { name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: OBJECT_STORE_COMPONENT } },
              { name: 'tmp', emptyDir: { sizeLimit: quantity('64Mi') } },
            ],
          },
        },
      },
    });

    new k8s.KubeService(this, 'service', {
      metadata,
      spec: {
        selector,
        ports: (['s3', 'admin'] as const).map((name) => ({
          name,
          port: OBJECT_STORE_PORTS[name],
          targetPort: k8s.IntOrString.fromString(name),
        })),
      },
    });

    new AllowTraffic(this, 'network-policy', {
      metadata: { name: `allow-${OBJECT_STORE_COMPONENT}`, namespace, labels },
      podSelector: { matchLabels: selector },
      ingress: [
        // Every client of the store, on its S3 port: what each may do is the bucket policy's.
        { from: artifactStoreClients(config), ports: [tcp(OBJECT_STORE_PORTS.s3)] },
        // The admin API makes users: only the Job that makes them.
        { from: [podsPeer(selectorLabels(STORE_USERS_COMPONENT))], ports: [tcp(OBJECT_STORE_PORTS.admin)] },
      ],
    });
  }
}
