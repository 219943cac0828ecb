import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import { REASON } from '../../controller/api/reasons.js';
import { RUN_API_VERSION, RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { DURATION_ANNOTATION, SIMULATE_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { apiMessage } from '../../local-cluster/server-side-apply.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { createRun, deleteRuns, inPhase, runObject, waitForRun } from '../support/runs.js';

/**
 * Fuzzes the Run API: mutated runs, submitted as a team editor, are either refused at apply time
 * naming the field, or reach a status that explains them, and the controller never retries a
 * child the API server refuses. The mutator is a small seeded one rather than fast-check: a
 * generator of specs is all this needs, each failure prints its spec and mutations, so shrinking
 * would add little, and a new dependency would have to be installed into every checkout. Set
 * PLINTH_FUZZ_SEED to replay or vary a run; the seed is printed.
 */
const SEED = Number(process.env['PLINTH_FUZZ_SEED'] ?? 1337);
const SPECS = 300;
const BATCH = 25;
/** How long accepted runs have, together, to reach a status that explains them. */
const SETTLE_MS = 45_000;
const NS = 'plinth-vision';
const editor = () => kubeConfigAs('vision-dev');
const admin = () => kubeConfigAs('admin');

type Json = Record<string, unknown>;
type Rng = () => number;

/** mulberry32: a tiny PRNG whose sequence depends on the seed alone. */
function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pickFrom =
  (rng: Rng) =>
  <T>(values: readonly T[]): T =>
    values[Math.floor(rng() * values.length)] as T;

/** Sets `value` at `path`, making the objects on the way; an index past the end appends. */
function setAt(target: Json, path: readonly (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = target;
  path.slice(0, -1).forEach((key, i) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
  const last = path[path.length - 1] as string | number;
  if (Array.isArray(node) && typeof last === 'number' && last >= node.length) node.push(value);
  else node[last] = value;
}

const image = 'ghcr.io/plinth-dev/train:1.0.0';
const annotations = { [DURATION_ANNOTATION]: '100ms' };
const SEEDS: readonly Json[] = [
  {
    kind: 'job',
    pool: SIMULATED_CPU_POOL,
    environment: { labels: { 'app.kubernetes.io/name': 'train' }, annotations },
    params: [{ name: 'LR', value: '0.01' }],
    job: {
      container: {
        image,
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        env: [{ name: 'EPOCHS', value: '1' }],
      },
      termination: { maxRetries: 0, ttl: 60 },
    },
  },
  {
    kind: 'service',
    pool: SIMULATED_CPU_POOL,
    environment: { annotations },
    service: {
      container: { image: 'ghcr.io/plinth-dev/serve:1.0.0', name: 'server' },
      ports: [{ name: 'http', port: 8080 }],
      replicas: 1,
    },
  },
];

const BAD_DNS_NAMES = ['Bad_Name', 'UPPER', '-lead', 'trail-', 'a..b', 'x'.repeat(254), '', 'é', 5];
const BAD_KEYS = ['bad key', '-x', 'a/b/c', 'UP.example.com/x', 'x'.repeat(64), '', 'example.com/', '/x'];
const BAD_LABEL_VALUES = ['has space', 'x'.repeat(64), '-x', 'x-', 5, true];
const BAD_QUANTITIES = ['1.5.5', '-1', -1, '1Gb', 'abc', '', 1.5, ' 1', '1 Gi', 'x'.repeat(300), '1e1000'];
const BAD_PORT_NAMES = ['http--alt', '-http', 'HTTP', '8080', 'a-very-long-port', 'h_t'];
const HUGE = 'x'.repeat(100_000);

type Pick = ReturnType<typeof pickFrom>;
/** A mutation: what it did, for the failure message. */
type Mutation = (spec: Json, pick: Pick) => string;

/** In a mutation's path: the section of the run's kind (spec.job, spec.service), whichever it is. */
const SECTION = Symbol('kind section');

const set =
  (path: readonly (string | number | typeof SECTION)[], values: readonly unknown[]): Mutation =>
  (spec, pick) => {
    const value = pick(values);
    const resolved = path.map((p) => (p === SECTION ? String(spec['kind']) : p));
    setAt(spec, resolved, value);
    return `${resolved.join('.')} = ${JSON.stringify(value)?.slice(0, 60)}`;
  };

/** Mutations: most make a run the API server should refuse, some one it may take. */
const MUTATIONS: readonly Mutation[] = [
  set([SECTION, 'container', 'name'], ['Main', 'a_b', '-x', 'x'.repeat(64), 5, 'main']),
  set(['environment', 'serviceAccountName'], [...BAD_DNS_NAMES, 'no-such-account']),
  set(['environment', 'priorityClassName'], [...BAD_DNS_NAMES, 'no-such-class']),
  (spec, pick) => set(['environment', 'labels', pick(BAD_KEYS)], ['ok'])(spec, pick),
  set(['environment', 'labels', 'team-label'], BAD_LABEL_VALUES),
  (spec, pick) => set(['environment', 'annotations', pick([...BAD_KEYS, 'Example.COM/Owner'])], ['any'])(spec, pick),
  (spec, pick) => set(['environment', 'nodeSelector', pick(BAD_KEYS)], ['ok'])(spec, pick),
  set(['environment', 'nodeSelector', 'example.com/disk'], [...BAD_LABEL_VALUES, 'ssd']),
  set([SECTION, 'container', 'resources', 'requests', 'cpu'], [...BAD_QUANTITIES, '1000', '2']),
  set([SECTION, 'container', 'resources', 'limits', 'memory'], [...BAD_QUANTITIES, '1Ei', '1Ki']),
  set([SECTION, 'container', 'resources', 'requests', 'bad name'], ['1']),
  set([SECTION, 'container', 'resources', 'limits', 'nvidia.com/gpu'], [1, 100, -1]),
  set(['pool'], ['gpu', 'tpu', '', 5]),
  set(['kind'], ['cron', 5, '', 'job', 'service']),
  set(
    [SECTION, 'container', 'env', 1],
    [{ name: 'A=B' }, { name: '' }, { name: 5 }, { value: 'x' }, { name: 'X', value: 5 }],
  ),
  set([SECTION, 'container', 'env'], ['string', {}, [1]]),
  set(
    ['container', 'volumeMounts', 0],
    [
      { name: 'no-such-volume', mountPath: '/data' },
      { name: 'Bad_Vol', mountPath: '/x' },
      { name: 'x' },
      { name: 'x', mountPath: '' },
    ],
  ),
  set([SECTION, 'ports', 0, 'name'], BAD_PORT_NAMES),
  set([SECTION, 'ports', 0, 'port'], [0, 70000, -1, '80', 1.5]),
  set([SECTION, 'ports', 0, 'protocol'], ['SCTP', 'tcp', 5]),
  set([SECTION, 'ports', 1], [{ name: 'http', port: 8080 }, { port: 8080 }, { name: 'admin', port: 9090 }]),
  set(
    ['environment', 'tolerations', 0],
    [
      { key: 'bad key', operator: 'Exists' },
      { key: 'k', operator: 'Maybe' },
      { key: 'k', effect: 'Sometimes' },
      { key: 'k', operator: 'Exists', value: 'v' },
      { key: '', operator: 'Equal', value: 'v' },
      { key: 'k', value: 'v', effect: 'NoSchedule', tolerationSeconds: 5 },
      { key: 'k', value: 'has space' },
      { operator: 'Exists' },
    ],
  ),
  set([SECTION, 'termination', 'maxRetries'], [-1, 101, 'x', 1.5]),
  set([SECTION, 'termination', 'timeout'], [0, -5, 'x', 1]),
  set([SECTION, 'termination', 'ttl'], [-1, 'x']),
  // Not 0: a service scaled to zero has no pod to report, and waits in created with no reason
  // until the status pacer publishes WorkloadCreated, a minute on (status-pacing.ts).
  set([SECTION, 'replicas'], [-1, 101, 'two', 2]),
  set(
    ['params', 1],
    [
      { name: '1X', value: 'v' },
      { name: 'a-b', value: 'v' },
      { name: 'OK', value: HUGE },
    ],
  ),
  set([SECTION, 'container', 'imagePullPolicy'], ['Sometimes', 5]),
  // Wrong types among the container's other fields: the container keeps fields it does not
  // declare, so these reach the controller, whose server-side apply of the Job then fails with an
  // HTTP 500 that names the field; the run fails as InvalidWorkload (run-validity.ts).
  set([SECTION, 'container', 'stdin'], ['yes']),
  set([SECTION, 'container', 'ports'], [[{ containerPort: -1 }]]),
  set([SECTION, 'container', 'livenessProbe'], [{}, { httpGet: { port: 'no such port name!' } }]),
  set([SECTION, 'container', 'terminationMessagePolicy'], ['Loud']),
  set([SECTION, 'container'], ['string', [], {}]),
  set([SECTION, 'container', 'image'], ['', 'x'.repeat(600), 5]),
  set([SECTION, 'container', 'args'], ['x', Array.from({ length: 300 }, () => 'a'), [1, 2]]),
  set([SECTION, 'container', 'securityContext', 'runAsUser'], [0, -1, 'root']),
  set(['environment'], [[], 'x', { bogus: true }]),
  set(['environment', 'labels'], ['x', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))]),
  set([SECTION, 'init', 0], [{ image, name: 'main' }, { name: 'no-image' }, { image, name: 'Init' }]),
  set(['connections'], [['nope'], ['datasets', 'datasets'], 'datasets', ['datasets']]),
  set(['bogus'], [1]),
  // Another kind's section beside the run's own, or a kind without its section.
  set(['service'], [{ container: { image }, ports: [{ port: 8080 }] }]),
  set(['job'], [{ container: { image } }, { container: { image }, ports: [{ port: 80 }] }]),
  set(['kind'], ['dag', 'pytorch', 'service']),
  set(['termination'], [{ maxRetries: 1 }]),
  // A parent: checked at apply time, then failed as NotSupported by this version of the controller.
  set(['matrix'], [{ kind: 'grid' }, { kind: 'annealing' }, { kind: 'random', numRuns: 0 }]),
  set(['schedule'], [{ kind: 'interval', frequency: 60 }, { kind: 'cron' }]),
  set([SECTION, 'termination', 'bogus'], [1]),
  set([SECTION, 'isExternal'], [true, 'yes']),
  set(['stopped'], [true, 'no']),
  set(['environment', 'annotations', SIMULATE_ANNOTATION], ['fail', 'oom', 'image-pull', 'crash-loop']),
];

interface Case {
  readonly name: string;
  readonly spec: Json;
  readonly mutations: string[];
}

function generate(rng: Rng): Case[] {
  const pick = pickFrom(rng);
  return Array.from({ length: SPECS }, (_, i) => {
    const spec = structuredClone(pick(SEEDS)) as Json;
    // One in ten stays valid; the others get one to three mutations.
    const count = rng() < 0.1 ? 0 : 1 + Math.floor(rng() * 3);
    const mutations = Array.from({ length: count }, () => pick(MUTATIONS)(spec, pick));
    let name = `fuzz-${i}`;
    if (rng() < 0.05) {
      name = pick([`Fuzz-${i}`, `fuzz.${i}`, `fuzz-${i}-${'x'.repeat(60)}`, `fuzz_${i}`]);
      mutations.push(`metadata.name = ${name}`);
    }
    return { name, spec, mutations };
  });
}

interface Refused {
  readonly case: Case;
  readonly code: number;
  readonly message: string;
}

/** Creates a run as a team editor; resolves to undefined if taken, or to the refusal. */
async function create(c: Case): Promise<Refused | undefined> {
  for (;;) {
    const refused = await createOnce(c);
    // Quota admission updates the team's quota on every create, and a create racing another may
    // lose that update: the conflict is the quota's, not the run's, and any client retries it.
    if (refused?.code !== 409 || !refused.message.includes('resourcequotas')) return refused;
  }
}

async function createOnce(c: Case): Promise<Refused | undefined> {
  try {
    await editor()
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace: NS,
        body: { apiVersion: RUN_API_VERSION, kind: RUN_KIND, metadata: { name: c.name }, spec: c.spec },
      });
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { case: c, code: error.code, message: apiMessage(error) };
  }
}

/**
 * Whether the controller has reported on the run as it is now, with a reason and a message, past
 * the moment its workload is being applied: a run stuck there is one the controller retries.
 */
const explained = (run: Run | undefined): run is Run =>
  run !== undefined &&
  run.status?.observedGeneration === run.metadata.generation &&
  Boolean(run.status?.reason && run.status.message) &&
  run.status?.reason !== REASON.Admitted;
/** Explained, and past the team's queue: its workload has been applied, or refused. */
const settled = (run: Run): boolean => explained(run) && run.status?.reason !== REASON.WaitingForQuota;
/** How long nothing may settle before runs explained but not settled are taken as they are. */
const QUIET_MS = 5000;

/** A field path as the API server names one: `spec.job.container.name`, `spec.service.ports[0].port`, `metadata.name`. */
const FIELD_PATH = /\b(spec|metadata)(\.[A-Za-z][\w/-]*|\[\d+\])+/;

/** The controller loop's warning for a reconcile it will retry (controller-loop.ts). */
const isRetry = (line: Record<string, unknown>) => String(line['msg']).startsWith('reconcile failed');

const describeCase = (c: Case) =>
  `${c.name} (${c.mutations.join('; ') || 'no mutation'}): ${JSON.stringify(c.spec).slice(0, 400)}`;

describe('the Run API under fuzzing', () => {
  let controller: ControllerProcess;
  /** Every run this file made, deleted after. */
  const made: string[] = [];

  beforeAll(async () => {
    controller = await startSyncedController('fuzz');
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, made);
    await controller.stop();
  }, 90_000);

  it("fails a run whose Job the API server refuses at once, with the server's message, and never retries it", async () => {
    // The CRD cannot compare quantities; the API server refuses a request above its limit.
    const name = 'over-limit';
    made.push(name);
    const spec = { job: { container: { image, resources: { requests: { cpu: '2' }, limits: { cpu: '500m' } } } } };
    expect(await createRun(editor(), NS, runObject(name, spec))).toBe(201);
    const run = await waitForRun(NS, name, inPhase('failed'), 30_000);
    expect(run.status).toMatchObject({ phase: 'failed', reason: REASON.InvalidWorkload });
    expect(run.status?.message).toContain(
      `Job.batch "${name}" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit`,
    );
    const retriedHere = (l: Record<string, unknown>) => isRetry(l) && l['key'] === `${NS}/${name}`;
    expect(controller.logs.filter(retriedHere)).toEqual([]);
  });

  it(`refuses at apply time, naming the field, or explains every run in its status (seed ${SEED})`, async () => {
    console.log(`run API fuzz: seed ${SEED} (set PLINTH_FUZZ_SEED to change it), ${SPECS} specs`);
    const cases = generate(mulberry32(SEED));
    const refused: Refused[] = [];
    const accepted: Case[] = [];
    for (let i = 0; i < cases.length; i += BATCH) {
      const batch = cases.slice(i, i + BATCH);
      const results = await Promise.all(batch.map(create));
      results.forEach((r, j) => {
        const c = batch[j] as Case;
        if (r) refused.push(r);
        else {
          accepted.push(c);
          made.push(c.name);
        }
      });
    }
    for (const r of refused) {
      expect(r.code, `HTTP ${r.code} for ${describeCase(r.case)}: ${r.message}`).toBe(422);
      expect(r.message, `no field named for ${describeCase(r.case)}`).toMatch(FIELD_PATH);
    }

    // Accepted runs must come to a status that explains them; each is deleted once its workload is
    // applied or refused, which frees its place in the team's quota for the runs that wait.
    const runs = editor().makeApiClient(CustomObjectsApi);
    const outcomes = new Map<string, Run>();
    const lastSeen = new Map<string, Run>();
    const deadline = Date.now() + SETTLE_MS;
    let progressAt = Date.now();
    // Done when every run has settled, or when the rest are explained and nothing has moved for a
    // while: a status still waiting for quota may be one the controller has yet to publish
    // (status-pacing.ts holds routine steps back).
    const quiet = () =>
      Date.now() - progressAt > QUIET_MS &&
      accepted.every((c) => outcomes.has(c.name) || explained(lastSeen.get(c.name)));
    while (outcomes.size < accepted.length && Date.now() < deadline && !quiet()) {
      const list = (await runs.listNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace: NS,
      })) as { items: Run[] };
      for (const run of list.items) {
        if (outcomes.has(run.metadata.name) || !accepted.some((c) => c.name === run.metadata.name)) continue;
        lastSeen.set(run.metadata.name, run);
        if (!settled(run)) continue;
        outcomes.set(run.metadata.name, run);
        progressAt = Date.now();
        await runs
          .deleteNamespacedCustomObject({
            group: RUN_GROUP,
            version: RUN_VERSION,
            plural: RUN_PLURAL,
            namespace: NS,
            name: run.metadata.name,
          })
          .catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 500));
    }

    // A run still waiting for its team's quota at the end is explained too, if never applied.
    for (const [name, run] of lastSeen) if (!outcomes.has(name) && explained(run)) outcomes.set(name, run);
    const byOutcome = new Map<string, number>();
    for (const run of outcomes.values()) {
      const key = `${run.status?.phase}/${run.status?.reason}`;
      byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
    }
    const retries = controller.logs.filter(isRetry);
    console.log(
      `run API fuzz, seed ${SEED}: ${refused.length} refused at apply (HTTP 422), ${accepted.length} accepted: ` +
        [...byOutcome].map(([k, n]) => `${k} ${n}`).join(', ') +
        `; ${retries.length} reconcile(s) retried`,
    );
    const retried = new Set(retries.map((l) => String((l['err'] as { message?: string } | undefined)?.message)));
    if (retried.size > 0) console.log(`reconciles retried for:\n${[...retried].join('\n')}`);

    const unexplained = accepted
      .filter((c) => !outcomes.has(c.name))
      .map((c) => `${describeCase(c)}; last status ${JSON.stringify(lastSeen.get(c.name)?.status)}`);
    expect(unexplained, 'runs with no explaining status in time').toEqual([]);
    for (const c of accepted) {
      const status = outcomes.get(c.name)?.status;
      if (status?.reason !== REASON.InvalidWorkload) continue;
      expect(status.phase, describeCase(c)).toBe('failed');
      // As validation names a field (`is invalid: spec.x`), or a server-side apply that cannot build
      // its patch (`failed to create typed patch object (...): .spec.x`).
      expect(status.message, `no field named for ${describeCase(c)}`).toMatch(
        /is invalid: .*\bspec\.[\w[\].]+|failed to create typed patch object .*: \.spec\.[\w[\]=".]+/,
      );
    }
    // The controller retries what may pass later, never a child the API server refused.
    expect(
      retries.filter((l) => /\bHTTP (422|400)\b|failed to create typed patch object/.test(JSON.stringify(l))),
    ).toEqual([]);
    // The fuzzing reached each outcome this test is about.
    expect(refused.length).toBeGreaterThan(0);
    expect(byOutcome.get(`failed/${REASON.InvalidWorkload}`) ?? 0).toBeGreaterThan(0);
    expect([...byOutcome.keys()].some((k) => k.startsWith('succeeded/'))).toBe(true);
  }, 150_000);
});
