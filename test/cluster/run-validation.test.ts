import { afterAll, describe, expect, it } from 'vitest';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { SECURITY_FLOOR_RULES } from '../../controller/api/security-floor.js';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { RUN_NAME_MAX } from '../../model/names.js';
import { applyOrThrow } from '../../local-cluster/server-side-apply.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { apiMessage } from '../../local-cluster/server-side-apply.js';
import { find, objectsOf } from '../support/platform.js';
import { createRun, deleteRuns, getRun, patchRun, runObject, submitRun } from '../support/runs.js';

const runsApi = () => kubeConfigAs('vision-dev').makeApiClient(CustomObjectsApi);

/** Creates a run as a team editor, as a dry run; resolves to the run the API server would store. */
async function dryRunCreate(name: string, spec: Record<string, unknown>): Promise<Run> {
  return (await runsApi().createNamespacedCustomObject({
    group: RUN_GROUP,
    version: RUN_VERSION,
    plural: RUN_PLURAL,
    namespace: 'plinth-vision',
    body: { ...runObject(name), spec },
    dryRun: 'All',
    // As kubectl does: a field the schema does not declare is an error, not silently dropped.
    fieldValidation: 'Strict',
  })) as Run;
}

/** The API server's rejection message for a run with this spec (and name). */
async function rejection(spec: Record<string, unknown>, name = 'invalid'): Promise<string> {
  try {
    await dryRunCreate(name, spec);
  } catch (error) {
    return apiMessage(error);
  }
  throw new Error('expected the API server to reject the run');
}

const image = 'ghcr.io/plinth-dev/train:1.0.0';
const base = { kind: 'job', pool: SIMULATED_CPU_POOL, job: { container: { image } } };
/** A job run whose job section has `section` too. */
const job = (section: Record<string, unknown>) => ({ ...base, job: { ...base.job, ...section } });
const service = {
  kind: 'service',
  pool: SIMULATED_CPU_POOL,
  service: { container: { image }, ports: [{ port: 8080 }] },
};
/** A service run whose service section has `section` too. */
const serving = (section: Record<string, unknown>) => ({ ...service, service: { ...service.service, ...section } });

describe('the API server rejects bad runs at apply time', () => {
  it('accepts a valid run', async () => {
    await expect(dryRunCreate('valid', base)).resolves.toBeDefined();
  });

  it('reads a new run back as created, before any controller reports on it', async () => {
    // No controller runs during this file: the phase comes from the CRD's default.
    try {
      await submitRun('plinth-vision', 'unreported');
      const run = await getRun('plinth-vision', 'unreported');
      expect(run.status).toEqual({ phase: 'created' });
    } finally {
      await deleteRuns(kubeConfigAs('admin'), 'plinth-vision', ['unreported']);
    }
  });

  it(`rejects a name over ${RUN_NAME_MAX} characters, naming metadata.name and the limit`, async () => {
    await expect(dryRunCreate('a'.repeat(RUN_NAME_MAX), base)).resolves.toBeDefined();
    expect(await rejection(base, 'a'.repeat(RUN_NAME_MAX + 1))).toMatch(
      new RegExp(`metadata\\.name: Invalid value: .*a run's name is at most ${RUN_NAME_MAX} characters`),
    );
  });

  it('rejects a service whose name its Service could not take, but not a job with that name', async () => {
    for (const name of ['web.v2', '2web']) {
      expect(await rejection(service, name)).toMatch(
        /metadata\.name: Invalid value: .*a service run's name must be a DNS-1035 label, since its Service is named after it/,
      );
    }
    await expect(dryRunCreate('web-v2', service)).resolves.toBeDefined();
    // A job makes no Service, and Job names may hold dots (kubectl.test.ts runs one to success).
    await expect(dryRunCreate('train.v2', base)).resolves.toBeDefined();
  });

  it('rejects an unknown pool, listing the pools', async () => {
    expect(await rejection({ ...base, pool: 'tpu' })).toMatch(
      /spec\.pool: Unsupported value: "tpu": supported values: "cpu", "gpu"/,
    );
  });

  it('takes an earlier run to resume or copy by exactly one of name or uid, for a job or service, not both', async () => {
    const uid = '6f1c3a52-0000-4000-8000-000000000001';
    await expect(dryRunCreate('resumes', { ...base, resumeFrom: { name: 'train' } })).resolves.toBeDefined();
    await expect(dryRunCreate('copies', { ...service, copyFrom: { uid } })).resolves.toBeDefined();
    expect(await rejection({ ...base, resumeFrom: { name: 'train', uid } })).toMatch(
      /spec\.resumeFrom: Invalid value: .*name the earlier run by exactly one of name or uid/,
    );
    expect(await rejection({ ...base, copyFrom: { uid: 'not-a-uid' } })).toMatch(/spec\.copyFrom\.uid: Invalid value/);
    expect(await rejection({ ...base, resumeFrom: { name: 'a' }, copyFrom: { name: 'b' } })).toMatch(
      /spec\.copyFrom: Forbidden: a run resumes an earlier run \(resumeFrom\) or starts with a copy of its outputs \(copyFrom\), not both/,
    );
    expect(await rejection({ ...base, matrix: { kind: 'grid', params: {} }, resumeFrom: { name: 'a' } })).toMatch(
      /spec\.resumeFrom: Forbidden: resumeFrom is for a job or service run/,
    );
  });

  it('rejects a negative maxRetries', async () => {
    expect(await rejection(job({ termination: { maxRetries: -1 } }))).toMatch(
      /spec\.job\.termination\.maxRetries: Invalid value: -1: spec\.job\.termination\.maxRetries in body should be greater than or equal to 0/,
    );
  });

  it("requires the section of the run's kind, and refuses another kind's, naming both", async () => {
    expect(await rejection({ kind: 'job', pool: SIMULATED_CPU_POOL })).toMatch(
      /spec\.job: Required value: a run of kind job needs its section, job/,
    );
    expect(await rejection({ ...base, service: service.service })).toMatch(
      /spec\.service: Forbidden: service is the section of kind service; a run of kind job has only the section job/,
    );
  });

  it("refuses a field of another kind's section, rather than dropping it", async () => {
    // Each section is closed: a job's termination cannot sit silently on a service, nor ports on a job.
    expect(await rejection(serving({ termination: { maxRetries: 3 } }))).toMatch(
      /unknown field "spec\.service\.termination"/,
    );
    expect(await rejection(job({ ports: [{ port: 8080 }], replicas: 2 }))).toMatch(
      /unknown field "spec\.job\.ports".*unknown field "spec\.job\.replicas"/,
    );
    expect(await rejection({ ...base, isExternal: true })).toMatch(/unknown field "spec\.isExternal"/);
  });

  it('rejects a connection the platform does not define, listing those it does, and a repeated one', async () => {
    expect(await rejection({ ...base, connections: ['datasets', 'gdrive'] })).toMatch(
      /spec\.connections\[1\]: Unsupported value: "gdrive": supported values: "huggingface", "datasets", "git"/,
    );
    expect(await rejection({ ...base, connections: ['datasets', 'datasets'] })).toMatch(
      /spec\.connections\[1\]: Duplicate value: "datasets"/,
    );
  });

  it('rejects a service without ports', async () => {
    expect(await rejection({ ...service, service: { container: { image } } })).toMatch(
      /spec\.service\.ports: Required value/,
    );
    expect(await rejection(serving({ ports: [] }))).toMatch(/spec\.service\.ports: Invalid value: 0: .*at least 1/);
  });

  it('rejects a container without an image', async () => {
    expect(await rejection(job({ container: { name: 'main' } }))).toMatch(
      /spec\.job\.container\.image: Required value/,
    );
  });

  it("rejects a container named as the platform's own, which would clash with its network gate", async () => {
    expect(await rejection(job({ init: [{ name: 'plinth-network', image }] }))).toMatch(
      /spec\.job\.init\[0\]\.name: Invalid value: "string": names starting with plinth- are the platform's own containers'/,
    );
  });

  it('rejects a GPU request on a CPU pool', async () => {
    expect(await rejection(job({ container: { image, resources: { limits: { 'nvidia.com/gpu': 1 } } } }))).toMatch(
      /spec\.job\.container\.resources: Invalid value: .*asks for nvidia\.com\/gpu on a CPU pool; use a GPU pool \(gpu\)/,
    );
    // An init container's GPUs hold the pod's as much as the main container's, whatever unit they are in.
    expect(await rejection(job({ init: [{ image, resources: { requests: { 'nvidia.com/gpu': '1000m' } } }] }))).toMatch(
      /spec\.job\.init: Invalid value: .*an init container asks for nvidia\.com\/gpu on a CPU pool/,
    );
  });

  it('rejects a container that asks to go below the security floor, naming each field', async () => {
    const message = await rejection(
      job({
        container: {
          image,
          securityContext: {
            runAsUser: 0,
            runAsGroup: 0,
            runAsNonRoot: false,
            privileged: true,
            allowPrivilegeEscalation: true,
            capabilities: { add: ['SYS_ADMIN'] },
            seccompProfile: { type: 'Unconfined' },
            procMount: 'Unmasked',
          },
        },
        init: [{ image: 'ghcr.io/plinth-dev/fetch:1.0.0', securityContext: { privileged: true } }],
      }),
    );
    // Every floor rule fails, each naming its own field.
    for (const { fieldPath, message: why } of SECURITY_FLOOR_RULES) {
      expect(message).toContain(`spec.job.container.securityContext${fieldPath}: Forbidden: ${why}`);
    }
    expect(message).toContain('spec.job.init[0].securityContext.privileged: Forbidden: runs are never privileged');
  });

  it("refuses a container that names a Secret, which reaches runs only through the team's connections", async () => {
    const secret = { name: 'team-admins-secret', key: 'token' };
    const message = await rejection(
      job({
        container: { image, env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: secret } }] },
        init: [{ image, envFrom: [{ secretRef: { name: secret.name } }] }],
      }),
    );
    const why = 'Forbidden: a run reads Secrets only through spec.connections';
    expect(message).toContain(`spec.job.container.env[0].valueFrom.secretKeyRef: ${why}`);
    expect(message).toContain(`spec.job.init[0].envFrom[0].secretRef: ${why}`);
    // ConfigMaps and the pod's own fields stay open to runs.
    await expect(
      dryRunCreate(
        'configmaps',
        job({
          container: {
            image,
            env: [
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
              { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'APP_' }],
          },
        }),
      ),
    ).resolves.toBeDefined();
  });

  it('rejects pod label and annotation keys the platform, Kubernetes or an add-on acts on, naming each', async () => {
    const labels = await rejection({ ...base, environment: { labels: { 'plinth.dev/serves': 'true' } } });
    expect(labels).toMatch(
      /spec\.environment\.labels: Forbidden: label key "plinth\.dev\/serves" is reserved: keys starting with plinth\.dev\/, connections\.plinth\.dev\//,
    );
    expect(
      await rejection({ ...base, environment: { labels: { 'connections.plinth.dev/warehouse': 'true' } } }),
    ).toContain('label key "connections.plinth.dev/warehouse" is reserved');
    for (const key of [
      'cluster-autoscaler.kubernetes.io/safe-to-evict',
      'k8s.v1.cni.cncf.io/networks',
      'karpenter.sh/do-not-disrupt',
    ]) {
      expect(await rejection({ ...base, environment: { annotations: { [key]: 'x' } } })).toContain(
        `spec.environment.annotations: Forbidden: annotation key "${key}" is reserved`,
      );
    }
    // The platform reads no pod annotation of its own, and Kubernetes' recommended labels are the team's to set.
    await expect(
      dryRunCreate('unreserved', {
        ...base,
        environment: { labels: { 'app.kubernetes.io/name': 'train' }, annotations: { 'plinth.dev/note': 'kept' } },
      }),
    ).resolves.toBeDefined();
  });

  it('rejects names, label keys and values, quantities and port names Kubernetes would refuse, naming each field', async () => {
    const message = await rejection({
      ...job({
        container: {
          image,
          name: 'Main',
          resources: { requests: { cpu: '1.5.5' }, limits: { memory: -1 } },
          env: [{ name: 'A=B', value: '1' }],
          volumeMounts: [{ name: 'Data_Set', mountPath: '' }],
        },
      }),
      environment: {
        serviceAccountName: 'Bad_Name',
        priorityClassName: 'High!',
        labels: { team: 'not ok' },
        nodeSelector: { 'example.com/disk': 'x'.repeat(64) },
        tolerations: [{ key: 'bad key', operator: 'Exists' }],
      },
    });
    for (const field of [
      'spec.job.container.name',
      'spec.job.container.resources.requests.cpu',
      'spec.job.container.resources.limits.memory',
      'spec.job.container.env[0].name',
      'spec.job.container.volumeMounts[0].name',
      'spec.job.container.volumeMounts[0].mountPath',
      'spec.environment.labels.team',
      'spec.environment.tolerations[0].key',
    ]) {
      expect(message).toContain(`${field}: Invalid value`);
    }
    // Only the platform's accounts and classes: the platform config lists them.
    expect(message).toContain(
      'spec.environment.serviceAccountName: Unsupported value: "Bad_Name": supported values: "pipeline"',
    );
    expect(message).toContain(
      'spec.environment.priorityClassName: Unsupported value: "High!": supported values: "plinth-urgent"',
    );
    expect(message).toContain('spec.environment.nodeSelector.example.com/disk: Too long: may not be more than 63');
    // Keys are checked by CEL rules, which the API server evaluates only once the schema holds.
    const keys = await rejection({
      ...job({ container: { image, resources: { requests: { 'bad name': '1' } } } }),
      environment: { labels: { 'bad key': 'ok' }, annotations: { '-x': 'any value' } },
    });
    expect(keys).toContain(
      'spec.job.container.resources.requests: Invalid value: "object": resource name "bad name" is not a qualified name',
    );
    expect(keys).toContain(
      'spec.environment.labels: Invalid value: "object": label key "bad key" is not a qualified name',
    );
    expect(keys).toContain(
      'spec.environment.annotations: Invalid value: "object": annotation key "-x" is not a qualified name',
    );

    // Two ports on one port, or of one name, as a Service cannot take them.
    expect(await rejection(serving({ ports: [{ name: 'http', port: 8080 }, { port: 8080 }] }))).toMatch(
      /spec\.service\.ports\[1\]: Duplicate value: .*"port":8080/,
    );
    expect(
      await rejection(
        serving({
          ports: [
            { name: 'http', port: 8080 },
            { name: 'http', port: 9090 },
          ],
        }),
      ),
    ).toContain('spec.service.ports: Invalid value: "array": port names must be unique');
    for (const name of ['http--alt', '-http', 'HTTP', '8080', 'a-very-long-port']) {
      expect(await rejection(serving({ ports: [{ name, port: 8080 }] }))).toContain('spec.service.ports[0].name: ');
    }
    await expect(
      dryRunCreate('formats', {
        ...serving({
          ports: [{ name: '8080-http', port: 8080 }],
          container: {
            image,
            name: 'server',
            resources: { requests: { cpu: '500m', memory: '1Gi', 'example.com/widget': 0 } },
          },
        }),
        environment: {
          serviceAccountName: 'pipeline',
          labels: { 'app.kubernetes.io/name': 'web', empty: '' },
          // Annotation keys are checked in lowercase, as the API server does.
          annotations: { 'Example.COM/Owner': 'the vision team' },
          tolerations: [{ operator: 'Exists' }],
        },
      }),
    ).resolves.toBeDefined();
  });

  it('accepts the securityContext of the restricted Pod Security profile, with a uid of its own', async () => {
    const securityContext = {
      runAsUser: 2000,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
    const created = await dryRunCreate('restricted', job({ container: { image, securityContext } }));
    expect(created.spec.job?.container.securityContext).toEqual(securityContext);
  });
});

describe('the API server rejects edits a submitted run cannot take', () => {
  const submitted = ['edit-job', 'edit-service', 'edit-stopped'];
  afterAll(() => deleteRuns(kubeConfigAs('admin'), 'plinth-vision', submitted));

  /** Merge-patches a run's spec as a team editor; resolves to the API server's rejection, or to '' if accepted. */
  async function edit(name: string, spec: Record<string, unknown>, dryRun = true): Promise<string> {
    try {
      await runsApi().patchNamespacedCustomObject(
        {
          group: RUN_GROUP,
          version: RUN_VERSION,
          plural: RUN_PLURAL,
          namespace: 'plinth-vision',
          name,
          body: { spec },
          ...(dryRun ? { dryRun: 'All' } : {}),
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return '';
    } catch (error) {
      return apiMessage(error);
    }
  }

  it('refuses any change to a job run but a stop, naming each field', async () => {
    await submitRun('plinth-vision', 'edit-job');
    const message = await edit('edit-job', {
      pool: 'gpu',
      job: { container: { image: 'ghcr.io/plinth-dev/train:2.0.0' }, termination: { maxRetries: 3 } },
      params: [{ name: 'LR', value: '0.1' }],
    });
    for (const field of ['pool', 'job', 'params']) {
      expect(message).toContain(`spec.${field}: Forbidden: a job run cannot change once submitted`);
    }
    expect(await edit('edit-job', { kind: 'service', job: null, service: service.service })).toContain(
      "spec.kind: Forbidden: a run's kind cannot change",
    );
    expect(await edit('edit-job', { stopped: true })).toBe('');
  });

  it('lets a service run change, but not into a job', async () => {
    await submitRun('plinth-vision', 'edit-service', service as Parameters<typeof submitRun>[2]);
    expect(
      await edit('edit-service', { service: { container: { image: 'ghcr.io/plinth-dev/serve:2.0.0' }, replicas: 3 } }),
    ).toBe('');
    expect(await edit('edit-service', { kind: 'job', service: null, job: base.job })).toContain(
      "spec.kind: Forbidden: a run's kind cannot change",
    );
    expect(await edit('edit-service', { matrix: { kind: 'grid' } })).toContain(
      'spec.matrix: Forbidden: a run cannot become a sweep, or stop being one, once submitted',
    );
  });

  it('keeps a stopped run stopped', async () => {
    await submitRun('plinth-vision', 'edit-stopped');
    expect(await edit('edit-stopped', { stopped: true }, false)).toBe('');
    for (const stopped of [false, null]) {
      expect(await edit('edit-stopped', { stopped })).toContain(
        'spec.stopped: Forbidden: a stopped run stays stopped; submit a new run to run it again',
      );
    }
  });
});

// The name rules hold on create only (crd.ts): runs an older CRD let in must keep working.
describe('a run stored before the name rules', () => {
  const name = 'a'.repeat(RUN_NAME_MAX + 1);
  const admin = () => kubeConfigAs('admin');
  const crd = find(objectsOf('local'), 'CustomResourceDefinition', `${RUN_PLURAL}.${RUN_GROUP}`);
  afterAll(() => deleteRuns(admin(), 'plinth-vision', [name]));

  it('still takes its status and its stop, so that an upgrade strands no run', async () => {
    const withoutNameRules = structuredClone(crd) as unknown as {
      spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] };
    };
    delete withoutNameRules.spec.versions[0]!.schema.openAPIV3Schema['x-kubernetes-validations'];
    try {
      await applyOrThrow(admin(), [withoutNameRules as unknown as typeof crd]);
      await eventually('the CRD without name rules to be served', async () =>
        (await createRun(admin(), 'plinth-vision', runObject(name))) === 201 ? true : undefined,
      );
    } finally {
      await applyOrThrow(admin(), [crd]);
    }
    await eventually('the name rules to be served again', () =>
      dryRunCreate('b'.repeat(RUN_NAME_MAX + 1), base).then(
        () => undefined,
        (error: unknown) => (apiMessage(error).includes(`at most ${RUN_NAME_MAX} characters`) ? true : undefined),
      ),
    );

    await patchRun('plinth-vision', name, { stopped: true });
    await admin()
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObjectStatus(
        {
          group: RUN_GROUP,
          version: RUN_VERSION,
          plural: RUN_PLURAL,
          namespace: 'plinth-vision',
          name,
          body: { status: { phase: 'stopped', reason: 'Stopped' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    expect((await getRun('plinth-vision', name)).status).toMatchObject({ phase: 'stopped' });
  });
});
