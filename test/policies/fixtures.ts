import { fromManifest, type PolicyResource } from '../../policies/resource.js';
import { find, objectsOf, type K8sObject } from '../support/platform.js';

/** A fixture: the resources checked together, and the one the rule must name (or not). */
export interface Fixture {
  readonly resources: PolicyResource[];
  readonly subject: string;
}

const local = objectsOf('local');
const clone = <T>(o: T): T => structuredClone(o);
const manifests = (...objects: unknown[]) => objects.map((o) => fromManifest(o as Record<string, unknown>));

/** The platform's own controller Deployment, with its PDB: it passes every rule. */
function controller(mutate: (d: any) => void = () => undefined) {
  const deployment = clone(find(local, 'Deployment', 'controller', 'plinth')) as any;
  mutate(deployment);
  return manifests(deployment, find(local, 'PodDisruptionBudget', 'controller', 'plinth'));
}
const pod = (d: any) => d.spec.template.spec;
const main = (d: any) => d.spec.template.spec.containers[0];

/** A GPU run's Job as the controller makes it. */
function gpuJob(mutate: (j: any) => void = () => undefined) {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'train',
      namespace: 'plinth-vision',
      labels: { 'plinth.dev/environment': 'local', 'plinth.dev/run': 'train' },
    },
    spec: {
      template: {
        spec: clone({
          ...pod(find(local, 'Deployment', 'controller', 'plinth')),
          nodeSelector: { 'plinth.dev/pool': 'gpu' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }],
        }),
      },
    },
  } as any;
  job.spec.template.spec.containers[0].resources = {
    requests: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '2' },
    limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '2' },
  };
  mutate(job);
  return manifests(job);
}

function team(mutate: (objects: K8sObject[]) => K8sObject[] = (o) => o) {
  const objects = local.filter(
    (o) => o.metadata.namespace === 'plinth-nlp' || (o.kind === 'Namespace' && o.metadata.name === 'plinth-nlp'),
  );
  return manifests(...mutate(clone(objects)));
}

/** The team's objects with the guards against its admins, each guard mutated by `mutate`. */
function guardedTeam(mutate: (guard: any) => any = (g) => g) {
  const guards = local.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy')).map((o) => mutate(clone(o)));
  return [...team(), ...manifests(...guards)];
}

const cnpg = (instances: number, environment: string) =>
  manifests({
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: 'plinth-db', namespace: 'plinth', labels: { 'plinth.dev/environment': environment } },
    spec: { instances },
  });

const aws = (
  type: string,
  name: string,
  props: Record<string, unknown>,
  dependencies: string[] = [],
): PolicyResource => ({
  kind: type,
  name,
  labels: {},
  annotations: {},
  body: props,
  urn: `urn:pulumi:aws-prod::plinth::${type}::${name}`,
  dependencies,
});

function bucket(protections: { encrypted: boolean; versioned: boolean; blocked: boolean }): PolicyResource[] {
  const b = aws('aws:s3/bucketV2:BucketV2', 'artifacts', { bucket: 'plinth-artifacts' });
  const depends = [b.urn ?? ''];
  return [
    b,
    ...(protections.encrypted
      ? [
          aws(
            'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
            'artifacts-sse',
            { rules: [{}] },
            depends,
          ),
        ]
      : []),
    ...(protections.versioned
      ? [
          aws(
            'aws:s3/bucketVersioningV2:BucketVersioningV2',
            'artifacts-versioning',
            { versioningConfiguration: { status: 'Enabled' } },
            depends,
          ),
        ]
      : []),
    ...(protections.blocked
      ? [
          aws(
            'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
            'artifacts-block',
            { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            depends,
          ),
        ]
      : []),
  ];
}

const rds = (props: Record<string, unknown>) => [
  aws('aws:rds/instance:Instance', 'plinth-db', { multiAz: true, storageEncrypted: true, ...props }),
];

/** For every rule: resources that break it, and resources that keep it. */
export const FIXTURES: Record<string, { violating: Fixture; passing: Fixture }> = {
  'pod-run-as-non-root': {
    violating: {
      resources: controller((d) => (pod(d).securityContext = { runAsUser: 0 })),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'container-no-privilege-escalation': {
    violating: {
      resources: controller((d) => (main(d).securityContext.capabilities = { add: ['NET_ADMIN'] })),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'pod-no-host-access': {
    violating: {
      resources: controller((d) => pod(d).volumes.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } })),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'pod-seccomp-runtime-default': {
    violating: {
      resources: controller((d) => {
        delete pod(d).securityContext.seccompProfile;
        delete main(d).securityContext.seccompProfile;
      }),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'container-resources': {
    violating: {
      resources: controller((d) => delete main(d).resources.limits),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'gpu-request-equals-limit': {
    violating: {
      resources: gpuJob((j) => (j.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'] = '1')),
      subject: 'Job plinth-vision/train',
    },
    passing: { resources: gpuJob(), subject: 'Job plinth-vision/train' },
  },
  'image-pinned': {
    violating: {
      resources: controller((d) => (main(d).image = 'ghcr.io/plinth-dev/controller:latest')),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'core-service-placement': {
    violating: {
      resources: controller((d) =>
        pod(d).tolerations.push({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }),
      ),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'gpu-pod-placement': {
    violating: {
      resources: gpuJob((j) => (j.spec.template.spec.tolerations = [])),
      subject: 'Job plinth-vision/train',
    },
    passing: { resources: gpuJob(), subject: 'Job plinth-vision/train' },
  },
  'pool-exists': {
    violating: {
      resources: gpuJob((j) => (j.spec.template.spec.nodeSelector = { 'plinth.dev/pool': 'tpu' })),
      subject: 'Job plinth-vision/train',
    },
    passing: { resources: gpuJob(), subject: 'Job plinth-vision/train' },
  },
  'replicated-workload-pdb-and-probes': {
    violating: {
      resources: controller().filter((r) => r.kind !== 'PodDisruptionBudget'),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'postgres-ha': {
    violating: { resources: cnpg(1, 'onprem'), subject: 'Cluster plinth/plinth-db' },
    passing: { resources: cnpg(1, 'local'), subject: 'Cluster plinth/plinth-db' },
  },
  'rds-multi-az': {
    violating: { resources: rds({ multiAz: false }), subject: 'aws:rds/instance:Instance plinth-db' },
    passing: { resources: rds({}), subject: 'aws:rds/instance:Instance plinth-db' },
  },
  'team-namespace-isolation': {
    violating: {
      resources: team((o) => o.filter((x) => !(x.kind === 'NetworkPolicy' && x.metadata.name === 'default-deny'))),
      subject: 'Namespace plinth-nlp',
    },
    passing: { resources: team(), subject: 'Namespace plinth-nlp' },
  },
  'team-namespace-bounds': {
    violating: {
      resources: team((o) =>
        o.filter((x) => !(x.kind === 'ResourceQuota' && x.metadata.name === 'no-system-priority')),
      ),
      subject: 'Namespace plinth-nlp',
    },
    passing: { resources: team(), subject: 'Namespace plinth-nlp' },
  },
  'team-admin-guard': {
    violating: {
      // Bound, but only to warn: the request goes through.
      resources: guardedTeam((g) =>
        g.kind === 'ValidatingAdmissionPolicyBinding' ? { ...g, spec: { ...g.spec, validationActions: ['Warn'] } } : g,
      ),
      subject: 'Namespace plinth-nlp',
    },
    passing: { resources: guardedTeam(), subject: 'Namespace plinth-nlp' },
  },
  'team-artifact-credentials': {
    // local's store takes keys from Secrets, and nothing in the manifests gives the team its own.
    violating: { resources: team(), subject: 'Namespace plinth-nlp' },
    passing: {
      resources: [
        ...team(),
        ...manifests({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'artifact-store-nlp', namespace: 'plinth-nlp' },
        }),
      ],
      subject: 'Namespace plinth-nlp',
    },
  },
  'egress-names-destination': {
    // As team namespaces once let every run out to the artifact store: any address, on its ports.
    violating: {
      resources: team((o) =>
        o.map((x) =>
          x.kind === 'NetworkPolicy' && x.metadata.name === 'allow-artifact-store'
            ? { ...x, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 443 }] }] } }
            : x,
        ),
      ),
      subject: 'NetworkPolicy plinth-nlp/allow-artifact-store',
    },
    passing: { resources: team(), subject: 'NetworkPolicy plinth-nlp/allow-artifact-store' },
  },
  'run-service-account-no-token': {
    violating: {
      resources: team((o) =>
        o.map((x) => (x.kind === 'ServiceAccount' ? { ...x, automountServiceAccountToken: true } : x)),
      ),
      subject: 'ServiceAccount plinth-nlp/plinth-run',
    },
    passing: { resources: team(), subject: 'ServiceAccount plinth-nlp/plinth-run' },
  },
  'no-cluster-admin-binding': {
    violating: {
      resources: team((o) =>
        o.map((x) =>
          x.kind === 'RoleBinding' ? { ...x, roleRef: { ...(x['roleRef'] as object), name: 'cluster-admin' } } : x,
        ),
      ),
      subject: 'RoleBinding plinth-nlp/team-editor',
    },
    passing: { resources: team(), subject: 'RoleBinding plinth-nlp/team-editor' },
  },
  'ingress-tls': {
    violating: {
      resources: manifests({
        ...clone(find(local, 'Ingress', 'tracking', 'plinth')),
        spec: { ...(clone(find(local, 'Ingress', 'tracking', 'plinth')) as any).spec, tls: [] },
      }),
      subject: 'Ingress plinth/tracking',
    },
    passing: { resources: manifests(find(local, 'Ingress', 'tracking', 'plinth')), subject: 'Ingress plinth/tracking' },
  },
  's3-bucket-protected': {
    violating: {
      resources: bucket({ encrypted: true, versioned: false, blocked: true }),
      subject: 'aws:s3/bucketV2:BucketV2 artifacts',
    },
    passing: {
      resources: bucket({ encrypted: true, versioned: true, blocked: true }),
      subject: 'aws:s3/bucketV2:BucketV2 artifacts',
    },
  },
  'rds-encrypted': {
    violating: { resources: rds({ storageEncrypted: false }), subject: 'aws:rds/instance:Instance plinth-db' },
    passing: { resources: rds({}), subject: 'aws:rds/instance:Instance plinth-db' },
  },
  'no-plaintext-secrets': {
    violating: {
      resources: controller((d) => main(d).env.push({ name: 'DB_PASSWORD', value: 'hunter22' })),
      subject: 'Deployment plinth/controller',
    },
    passing: { resources: controller(), subject: 'Deployment plinth/controller' },
  },
  'waiver-has-reason': {
    violating: {
      resources: controller((d) => (d.metadata.annotations = { 'policies.plinth.dev/waive': 'image-pinned' })),
      subject: 'Deployment plinth/controller',
    },
    passing: {
      resources: controller(
        (d) =>
          (d.metadata.annotations = {
            'policies.plinth.dev/waive': 'image-pinned=vendor image, digest tracked upstream',
          }),
      ),
      subject: 'Deployment plinth/controller',
    },
  },
};
