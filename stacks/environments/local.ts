import type { PlatformConfigInput } from '../../model/config/schema.js';
import { DATASETS, GIT } from './connections.js';
import { LOCAL_REGISTRY } from '../../images/reference.js';
import { platformImages } from './images.js';
import { objectStoreEndpoint } from '../../model/names.js';

/**
 * The local platform (`npm run cluster -- up`): real core and cpu nodes that run containers,
 * kwok-simulated gpu nodes and a simulated cpu pool `sim` (for scale and for runs that ask to be
 * simulated), one Postgres instance, the platform's own S3-compatible store, and tiny resource requests.
 */
export const local: PlatformConfigInput = {
  name: 'local',
  images: platformImages(LOCAL_REGISTRY),
  nodePools: {
    core: { role: 'core', taints: [{ key: 'plinth.dev/dedicated', value: 'core', effect: 'NoSchedule' }] },
    cpu: { role: 'cpu' },
    gpu: { role: 'gpu', accelerator: 'nvidia-a100', gpusPerNode: 8 },
    // kwok-simulated: runs here succeed without executing, so tests of scale and scheduling need no image.
    sim: { role: 'cpu' },
  },
  database: {
    kind: 'cloudnative-pg',
    instances: 1,
    synchronousReplicas: 0,
    storage: { size: '1Gi' },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  },
  artifacts: {
    kind: 's3',
    bucket: 'plinth-local',
    region: 'us-east-1',
    endpoint: objectStoreEndpoint('plinth'),
    // The platform's own store (versitygw), on a small claim; its root keys are the harness's.
    server: {
      storage: { size: '1Gi' },
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    },
    credentials: { secret: { name: 'artifact-store' } },
  },
  connections: [
    {
      name: 'huggingface',
      description: "The Hugging Face Hub, with the token in the team's huggingface Secret (key HF_TOKEN)",
      env: { HF_HUB_DISABLE_TELEMETRY: '1' },
      secret: { name: 'huggingface' },
      egress: { ports: [443] },
    },
    DATASETS,
    GIT,
  ],
  ingress: { domain: 'plinth.localtest.me', tls: { kind: 'issuer', name: 'plinth-local-ca' } },
  teams: [
    {
      name: 'vision',
      members: [
        { kind: 'User', name: 'vision-lead', role: 'admin' },
        { kind: 'User', name: 'vision-dev', role: 'editor' },
        { kind: 'User', name: 'vision-observer', role: 'viewer' },
      ],
      quota: { cpu: '16', memory: '64Gi', gpu: 16, maxConcurrentRuns: 20 },
      priorityClasses: ['plinth-urgent'],
      // The team's pipelines submit runs of their own, as the account a team admin binds to plinth-editor.
      serviceAccounts: [{ name: 'pipeline', mountToken: true }],
    },
    {
      name: 'nlp',
      members: [{ kind: 'Group', name: 'nlp-researchers', role: 'editor' }],
      quota: { cpu: '8', memory: '32Gi', gpu: 8, maxConcurrentRuns: 10 },
      priorityClasses: [],
    },
  ],
  platformAdmins: [{ kind: 'Group', name: 'platform-engineers' }],
  runs: {
    priorityClasses: [
      {
        name: 'plinth-urgent',
        value: 100000,
        description: 'Runs that go first in the scheduling queue, without preempting.',
      },
    ],
  },
  controller: {
    replicas: 2,
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
  },
  tracking: {
    replicas: 2,
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  },
  monitoring: { enabled: true },
};
