import { afterAll, describe, expect, it } from 'vitest';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Dag, RUN_GROUP, RUN_PLURAL, RUN_VERSION, RunSpec, type Run } from '../../controller/api/run.js';
import { applyOrThrow, apiMessage } from '../../local-cluster/server-side-apply.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { find, objectsOf } from '../support/platform.js';
import { deleteRuns, runObject } from '../support/runs.js';

/**
 * The composite parts of the Run API, as the API server takes them: sweeps (spec.matrix), DAGs
 * (kind: dag) and schedules (spec.schedule), nested exactly as composition.ts decides, and frozen
 * once submitted but for a stop and a schedule's pause. No controller runs in this file.
 */
const NS = 'plinth-vision';
const runsApi = () => kubeConfigAs('vision-dev').makeApiClient(CustomObjectsApi);
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const jobTemplate = { kind: 'job', job: { container: { image } } };
const grid = { kind: 'grid', params: { lr: { kind: 'choice', value: [0.1, 0.01] } }, concurrency: 2 };
const sweep = { kind: 'job', pool: SIMULATED_CPU_POOL, job: { container: { image } }, matrix: grid };
const dag = (operations: Record<string, unknown>[]) => ({ kind: 'dag', dag: { operations } });
const pipeline = dag([
  { name: 'prepare', template: jobTemplate },
  {
    name: 'train',
    dependencies: ['prepare'],
    template: {
      kind: 'job',
      pool: 'gpu',
      job: { container: { image, resources: { limits: { 'nvidia.com/gpu': 1 } } } },
      matrix: grid,
    },
  },
]);
const nightly = { ...pipeline, schedule: { kind: 'cron', cron: '0 3 * * *', timeZone: 'Europe/Paris' } };

async function create(name: string, spec: Record<string, unknown>, dryRun = true): Promise<Run> {
  return (await runsApi().createNamespacedCustomObject({
    group: RUN_GROUP,
    version: RUN_VERSION,
    plural: RUN_PLURAL,
    namespace: NS,
    body: { ...runObject(name), spec },
    fieldValidation: 'Strict',
    ...(dryRun ? { dryRun: 'All' } : {}),
  })) as Run;
}

/** The API server's message refusing `spec`, or '' if it takes it. */
async function refusal(spec: Record<string, unknown>): Promise<string> {
  return create('composite', spec).then(
    () => '',
    (error: unknown) => apiMessage(error),
  );
}

/** Merge-patches a run's spec as a team editor; the API server's refusal, or '' if it takes the edit. */
async function edit(name: string, spec: Record<string, unknown>): Promise<string> {
  return runsApi()
    .patchNamespacedCustomObject(
      { group: RUN_GROUP, version: RUN_VERSION, plural: RUN_PLURAL, namespace: NS, name, body: { spec } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )
    .then(
      () => '',
      (error: unknown) => apiMessage(error),
    );
}

describe('composite runs, as the API server takes them', () => {
  it('takes a sweep, a DAG whose operation is swept, and that DAG on a schedule', async () => {
    expect(await refusal(sweep)).toBe('');
    expect(await refusal(pipeline)).toBe('');
    expect(await refusal(nightly)).toBe('');
  });

  it('refuses a matrix around a DAG, and a DAG inside a DAG, by name', async () => {
    expect(await refusal({ ...pipeline, matrix: grid })).toMatch(
      /spec\.matrix: Forbidden: a matrix sweeps a leaf kind, not a dag/,
    );
    // A template has no dag section to hold one, and its kind is a leaf kind.
    expect(await refusal(dag([{ name: 'inner', template: pipeline }]))).toMatch(
      /unknown field "spec\.dag\.operations\[0\]\.template\.dag"/,
    );
    expect(await refusal(dag([{ name: 'inner', template: { kind: 'dag' } }]))).toMatch(
      /spec\.dag\.operations\[0\]\.template\.kind: Unsupported value: "dag": supported values: "job", "service"/,
    );
    // Nor does a template take a schedule: only a top-level run is scheduled.
    expect(await refusal(dag([{ name: 'op', template: { ...jobTemplate, schedule: nightly.schedule } }]))).toMatch(
      /unknown field "spec\.dag\.operations\[0\]\.template\.schedule"/,
    );
  });

  it("checks a template as it checks a run: its kind's section, its pool, GPUs on a CPU pool", async () => {
    const op = (template: Record<string, unknown>) => dag([{ name: 'op', template }]);
    const at = 'spec.dag.operations[0].template';
    expect(await refusal(op({ kind: 'service', job: jobTemplate.job }))).toContain(
      `${at}.service: Required value: a run of kind service needs its section, service`,
    );
    expect(await refusal(op({ ...jobTemplate, pool: 'tpu' }))).toContain(
      `${at}.pool: Unsupported value: "tpu": supported values: "cpu", "gpu"`,
    );
    const gpuJob = { container: { image, resources: { limits: { 'nvidia.com/gpu': 1 } } } };
    expect(await refusal(op({ kind: 'job', pool: SIMULATED_CPU_POOL, job: gpuJob }))).toContain(
      `${at}.job.container.resources: Invalid value: "object": container.resources asks for nvidia.com/gpu on a CPU pool`,
    );
    expect(await refusal(op({ ...jobTemplate, connections: ['gdrive'] }))).toContain(
      `${at}.connections[0]: Unsupported value: "gdrive"`,
    );
  });

  it('refuses two operations of one name, and a schedule missing what its kind needs', async () => {
    expect(
      await refusal(
        dag([
          { name: 'op', template: jobTemplate },
          { name: 'op', template: jobTemplate },
        ]),
      ),
    ).toMatch(/spec\.dag\.operations\[1\]: Duplicate value: .*"name":"op"/);
    expect(await refusal({ ...sweep, schedule: { kind: 'cron' } })).toContain(
      'spec.schedule.cron: Required value: a cron schedule needs cron',
    );
    expect(await refusal({ ...sweep, schedule: { kind: 'interval' } })).toContain(
      'spec.schedule.frequency: Required value: an interval schedule needs frequency',
    );
  });
});

describe('a submitted parent run', () => {
  const names = ['frozen-sweep', 'frozen-schedule'];
  afterAll(() => deleteRuns(kubeConfigAs('admin'), NS, names));

  it('may change only spec.stopped and spec.schedule.suspended, naming any other field it refuses', async () => {
    await create('frozen-sweep', sweep, false);
    const parentMessage = 'Forbidden: a parent run (a dag, a sweep or a schedule) cannot change once submitted';
    expect(await edit('frozen-sweep', { matrix: { numRuns: 1 } })).toContain(`spec.matrix: ${parentMessage}`);
    expect(await edit('frozen-sweep', { environment: { labels: { stage: 'b' } } })).toContain(
      `spec.environment: ${parentMessage}`,
    );
    expect(await edit('frozen-sweep', { matrix: null })).toContain(
      'spec.matrix: Forbidden: a run cannot become a sweep, or stop being one, once submitted',
    );
    expect(await edit('frozen-sweep', { stopped: true })).toBe('');

    await create('frozen-schedule', nightly, false);
    expect(await edit('frozen-schedule', { schedule: { cron: '0 4 * * *' } })).toContain(
      'spec.schedule.cron: Forbidden: a schedule cannot change once submitted, but for spec.schedule.suspended',
    );
    expect(await edit('frozen-schedule', { dag: { operations: [] } })).toContain(`spec.dag: ${parentMessage}`);
    expect(await edit('frozen-schedule', { schedule: { suspended: true } })).toBe('');
    expect(await edit('frozen-schedule', { schedule: { suspended: false } })).toBe('');
  });
});

/** The maxItems of a list in a schema, read from the schema so that the test follows it. */
const maxItemsOf = (schema: unknown): number => {
  const max = (schema as { maxItems?: number }).maxItems;
  if (max === undefined) throw new Error('the list has no maxItems');
  return max;
};

describe('the Run CRD at its limits', () => {
  const names = ['widest-dag', 'widest-job'];
  afterAll(() => deleteRuns(kubeConfigAs('admin'), NS, names));

  it("is taken by the API server, whose CEL cost estimate bounds every rule by its lists' maxItems", async () => {
    // Applied again, so that a rule over budget fails here, by name, and not only in every suite's setup.
    const crd = find(objectsOf('local'), 'CustomResourceDefinition', `${RUN_PLURAL}.${RUN_GROUP}`);
    await expect(applyOrThrow(kubeConfigAs('admin'), [crd])).resolves.toBeUndefined();
  });

  it('takes, and lets stop, a DAG and a job with their lists at maxItems', async () => {
    const operations = Dag.properties.operations;
    const dependencies = operations.items.properties.dependencies;
    const count = maxItemsOf(operations);
    const wide = dag(
      Array.from({ length: count }, (_, i) => ({
        name: `op-${i}`,
        dependencies: Array.from({ length: Math.min(i, maxItemsOf(dependencies)) }, (_, d) => `op-${i - d - 1}`),
        template: { ...jobTemplate, params: [{ name: 'INDEX', value: String(i) }] },
      })),
    );
    await create('widest-dag', wide, false);

    const job = RunSpec.properties.job;
    const container = job.properties.container.properties;
    const env = Array.from({ length: maxItemsOf(container.env) }, (_, i) => ({ name: `VAR_${i}`, value: 'x' }));
    const full = { image, env, args: Array.from({ length: maxItemsOf(container.args) }, (_, i) => `--a${i}`) };
    const spec = {
      kind: 'job',
      pool: SIMULATED_CPU_POOL,
      job: { container: full, init: Array.from({ length: maxItemsOf(job.properties.init) }, () => full) },
      params: Array.from({ length: maxItemsOf(RunSpec.properties.params) }, (_, i) => ({ name: `P${i}`, value: 'v' })),
      environment: {
        labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`example.com/l${i}`, 'v'])),
        tolerations: Array.from(
          { length: maxItemsOf(RunSpec.properties.environment.properties.tolerations) },
          (_, i) => ({
            key: `example.com/t${i}`,
            operator: 'Exists',
          }),
        ),
      },
    };
    await create('widest-job', spec, false);
    // An update runs the transition rules too, over the whole stored spec.
    for (const name of names) expect(await edit(name, { stopped: true })).toBe('');
  });
});
