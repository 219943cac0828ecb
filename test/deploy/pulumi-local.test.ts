import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPU_RESOURCE } from '../../model/pools.js';
import { buildPolicyPack } from '../../policies/pulumi/build-pack.js';
import { crdsFor } from '../../stacks/deploy/components/operator-crds.js';
import { killClusterSync, startCluster, stopCluster, type ClusterState } from '../../local-cluster/control-plane.js';
import { eventually } from '../support/cluster-clients.js';
import { objectStoreVolume } from '../support/object-store-volume.js';
import { configOf, objectsOf, type K8sObject } from '../support/platform.js';
import { applyOrThrow } from '../../local-cluster/server-side-apply.js';
import { PulumiCli, urnName } from '../support/pulumi-cli.js';

/**
 * `pulumi up -s local` for real: the Pulumi CLI, its Node.js language host and the Kubernetes
 * provider, with a local file backend, against a control plane of its own.
 */
let dir: string;
let cluster: ClusterState;
let pulumi: PulumiCli;
let kc: KubeConfig;

async function exists(object: K8sObject): Promise<boolean> {
  try {
    await kc.makeApiClient(KubernetesObjectApi).read({
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata.name, namespace: object.metadata.namespace ?? '' },
    });
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}

const quotaGpus = async (namespace: string) =>
  (await kc.makeApiClient(CoreV1Api).readNamespacedResourceQuota({ name: 'team-quota', namespace })).spec?.hard?.[
    `requests.${GPU_RESOURCE}`
  ];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-pulumi-'));
  cluster = await startCluster({ dir: join(dir, 'cluster') });
  process.once('exit', () => killClusterSync(join(dir, 'cluster')));
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  await applyOrThrow(kc, objectStoreVolume(configOf('local'), join(dir, 'object-store')) as never[]);
  pulumi = await PulumiCli.create('local', join(dir, 'pulumi'), cluster.kubeconfig);
  // The root keys of the platform's own store: the platform's keys and each team's are derived.
  await pulumi.configSet('plinth:artifactStoreAdmin.accessKeyId', 'STOREADMINTEST', true);
  await pulumi.configSet('plinth:artifactStoreAdmin.secretAccessKey', 'not-a-real-admin-key', true);
});

afterAll(async () => {
  if (cluster) await stopCluster(cluster.dir);
  await rm(dir, { recursive: true, force: true });
});

describe('pulumi up -s local against the harness control plane', () => {
  it('creates the whole platform, as the chart renders it', async () => {
    const up = await pulumi.ok(['up', '--yes', '--skip-preview']);
    expect(up.stdout).toMatch(/\+ \d+ created/);

    const objects = objectsOf('local');
    const missing: string[] = [];
    for (const object of objects) {
      if (!(await exists(object)))
        missing.push(`${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`);
    }
    expect(missing).toEqual([]);

    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const names = crds.items.map((c) => c.metadata?.name);
    for (const crd of crdsFor(objects)) expect(names).toContain(crd.metadata.name);

    // The provider waited for the Deployments; their pods run on the simulated core nodes.
    const apps = kc.makeApiClient(AppsV1Api);
    for (const name of ['controller', 'tracking', 'object-store']) {
      const d = await apps.readNamespacedDeployment({ name, namespace: 'plinth' });
      expect(d.status?.readyReplicas).toBe(d.spec?.replicas);
    }

    // The store's root keys came from Pulumi secrets; the platform's keys, derived from them, went
    // into the platform namespace only, and each team got its own, once the chart's Job that makes
    // the users in the store had run (kwok completes it).
    const core = kc.makeApiClient(CoreV1Api);
    const text = (data: Record<string, string> | undefined, key: string) =>
      Buffer.from(data?.[key] ?? '', 'base64').toString();
    const root = await core.readNamespacedSecret({ name: 'object-store-admin', namespace: 'plinth' });
    expect(text(root.data, 'ROOT_ACCESS_KEY_ID')).toBe('STOREADMINTEST');
    const platformKeys = await core.readNamespacedSecret({ name: 'artifact-store', namespace: 'plinth' });
    expect(text(platformKeys.data, 'AWS_ACCESS_KEY_ID')).toBe('plinth-local');
    const platformSecretKey = text(platformKeys.data, 'AWS_SECRET_ACCESS_KEY');
    expect(platformSecretKey).toMatch(/^[0-9a-f]{40}$/);
    const job = await kc
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ name: 'artifact-store-users', namespace: 'plinth' });
    expect(job.status?.succeeded).toBe(1);
    const teamKeys: string[] = [];
    for (const team of ['vision', 'nlp']) {
      const namespace = `plinth-${team}`;
      await expect(core.readNamespacedSecret({ name: 'artifact-store', namespace })).rejects.toMatchObject({
        code: 404,
      });
      const own = await core.readNamespacedSecret({ name: `artifact-store-${team}`, namespace });
      expect(text(own.data, 'AWS_ACCESS_KEY_ID')).toBe(`plinth-local-${team}`);
      teamKeys.push(text(own.data, 'AWS_SECRET_ACCESS_KEY'));
    }
    // The controller's own, which archives runs' logs.
    const logArchive = await core.readNamespacedSecret({ name: 'log-archive', namespace: 'plinth' });
    expect(text(logArchive.data, 'AWS_ACCESS_KEY_ID')).toBe('plinth-local--logs');
    const logArchiveKey = text(logArchive.data, 'AWS_SECRET_ACCESS_KEY');
    expect(new Set([...teamKeys, platformSecretKey, logArchiveKey]).size).toBe(4);
    for (const secret of ['not-a-real-admin-key', platformSecretKey, logArchiveKey, ...teamKeys])
      expect(up.stdout).not.toContain(secret);

    const outputs = await pulumi.outputs();
    expect(outputs).toMatchObject({ environment: 'local', platformNamespace: 'plinth' });
    // The chart (the store and its users' Job among it), the operators' CRDs, and the Secrets: the
    // store's root keys, the Job's, the platform's keys, the log archive's and each team's.
    expect(outputs['objectCount']).toBe(objects.length + crdsFor(objects).length + 4 + 2);
  });

  it('then previews no changes, and passes the policy pack over its real resources', async () => {
    const { changes, summary } = await pulumi.preview(['--expect-no-changes']);
    expect(changes).toEqual([]);
    expect(Object.keys(summary)).toEqual(['same']);

    const pack = join(pulumi.project, 'policy-pack');
    await buildPolicyPack(pack);
    const checked = await pulumi.ok(['preview', '--policy-pack', pack]);
    expect(checked.stdout).toMatch(/Policies:\s+✅ plinth@v0\.1\.0/);
  });

  it('updates exactly the objects a team quota change affects', async () => {
    await pulumi.configSet('plinth:teamQuotas.vision.gpu', '24');
    const { changes } = await pulumi.preview();
    expect(changes.map((s) => `${s.op} ${urnName(s.urn)}`).sort()).toEqual([
      // The controller reads team quotas from its ConfigMap for admission.
      'update ConfigMap/plinth/plinth-controller',
      'update ResourceQuota/plinth-vision/team-quota',
    ]);
    await pulumi.ok(['up', '--yes', '--skip-preview']);
    expect(await quotaGpus('plinth-vision')).toBe('24');
    expect(await quotaGpus('plinth-nlp')).toBe('8');
  });

  it('refuses bad config before touching a resource, naming the key', async () => {
    await pulumi.configSet('plinth:teamQuotas.vision.gpu', '-4');
    const up = await pulumi.run(['up', '--yes', '--skip-preview']);
    expect(up.code).not.toBe(0);
    expect(`${up.stdout}${up.stderr}`).toContain('plinth:teamQuotas.vision.gpu: must be 0 or more');
    expect(await quotaGpus('plinth-vision')).toBe('24');
    await pulumi.configSet('plinth:teamQuotas.vision.gpu', '24');
  });

  it('destroys everything it created', async () => {
    await pulumi.ok(['destroy', '--yes', '--skip-preview']);
    const objects = objectsOf('local');
    const left = await eventually(
      'every platform object to be gone',
      async () => {
        const remaining: string[] = [];
        for (const object of objects)
          if (await exists(object)) remaining.push(`${object.kind}/${object.metadata.name}`);
        return remaining.length === 0 ? remaining : undefined;
      },
      120_000,
    );
    expect(left).toEqual([]);
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.map((c) => c.metadata?.name)).toEqual([]);
  });
});
