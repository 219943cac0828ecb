import { execFile } from 'node:child_process';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsV1Api, Watch, type EventsV1Event } from '@kubernetes/client-node';
import { pino } from 'pino';
import { RUN_API_VERSION, RUN_KIND, runsPath, type Run, type RunStatus } from '../../controller/api/run.js';
import { EventRecorder, type EventRecord } from '../../controller/runtime/event-recorder.js';
import { REPORTING_CONTROLLER } from '../../controller/runs/run-events.js';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { serviceAccountConfig } from '../support/access.js';
import { cluster, eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, getRun, inPhase, submitRun, submittedRuns, waitForRun } from '../support/runs.js';

const NS = 'plinth-vision';
/** The team's viewer: what it reads, a team member can. */
const VIEWER = 'vision-observer';
const IDENTITY = 'events';
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;

/** A job run on the GPU pool holding `gpus` GPUs of the team's quota for `duration`. */
const gpuJob = (gpus: number, duration: string): Parameters<typeof submitRun>[2] => ({
  pool: 'gpu',
  environment: { annotations: { [DURATION_ANNOTATION]: duration } },
  job: { container: { image, resources: { limits: { 'nvidia.com/gpu': gpus } } } },
});

/** The Events on a run, as its team's viewer reads them through events.k8s.io, oldest first. */
async function eventsOn(name: string): Promise<EventsV1Event[]> {
  const run = await getRun(NS, name);
  const list = await kubeConfigAs(VIEWER)
    .makeApiClient(EventsV1Api)
    .listNamespacedEvent({ namespace: NS, fieldSelector: `regarding.uid=${run.metadata.uid}` });
  return list.items.sort((a, b) => new Date(a.eventTime).getTime() - new Date(b.eventTime).getTime());
}

/** Every status a run is written with, in order, as a watch sees them. */
async function watchStatuses(name: string): Promise<{ statuses: RunStatus[]; stop: () => void }> {
  const statuses: RunStatus[] = [];
  const watch = new Watch(kubeConfigAs('admin'));
  const request = await watch.watch(
    runsPath(),
    { fieldSelector: `metadata.namespace=${NS},metadata.name=${name}` },
    (_type, run: Run) => {
      const status = run.status ?? {};
      if (JSON.stringify(status) !== JSON.stringify(statuses.at(-1))) statuses.push(status);
    },
    () => undefined,
  );
  return { statuses, stop: () => request.abort() };
}

async function describeRun(name: string): Promise<string> {
  const state = cluster();
  const { stdout } = await promisify(execFile)('kubectl', ['describe', 'run', name, '-n', NS], {
    env: {
      ...process.env,
      PATH: [...state.binDirs, process.env['PATH']].join(':'),
      KUBECONFIG: state.kubeconfigs[VIEWER],
    },
  });
  return stdout;
}

/** The lines of `kubectl describe`'s Events section. */
const eventLines = (description: string) =>
  description
    .slice(description.indexOf('\nEvents:') + 1)
    .split('\n')
    // Events:, the header and its underline
    .slice(3)
    .filter((line) => line.trim() !== '');

describe('Events on runs', () => {
  beforeAll(async () => {
    // A short resync: the runs are reconciled again and again, which must not add Events.
    controller = await startSyncedController(IDENTITY, { resyncSeconds: 2 });
  });
  afterAll(async () => {
    await deleteRuns(kubeConfigAs('admin'), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it('tells a job run’s story, one Event per phase or diagnosis, not one per status write', async () => {
    // The team's 16 GPUs: 8 held throughout, 4 freed soon, 4 later. The run that wants 8 waits
    // for quota twice over (16/16, then 12/16), then runs and succeeds.
    await submit('events-hold', gpuJob(8, '120s'));
    await waitForRun(NS, 'events-hold', inPhase('running'));
    await submit('events-soon', gpuJob(4, '10s'));
    await submit('events-later', gpuJob(4, '20s'));
    await waitForRun(NS, 'events-soon', inPhase('running'));
    await waitForRun(NS, 'events-later', inPhase('running'));
    const watched = await watchStatuses('events-story');
    await submit('events-story', gpuJob(8, '5s'));
    const run = await waitForRun(NS, 'events-story', inPhase('succeeded', 'failed'), 90_000);
    expect(run.status?.phase).toBe('succeeded');
    watched.stop();

    // What the status went through: each (phase, reason) it was written with, in order.
    const written = watched.statuses.filter((s) => s.reason !== undefined);
    const steps = written.filter(
      (s, i) => i === 0 || s.phase !== written[i - 1]?.phase || s.reason !== written[i - 1]?.reason,
    );
    expect(written.filter((s) => s.reason === 'WaitingForQuota').map((s) => s.message)).toEqual([
      'waiting for quota: team vision uses 16/16 GPUs',
      'waiting for quota: team vision uses 12/16 GPUs',
    ]);
    expect(written.length).toBeGreaterThan(steps.length);

    const events = await eventually('an Event for each step', async () => {
      const events = await eventsOn('events-story');
      return events.length >= steps.length ? events : undefined;
    });
    expect(events.map((e) => [e.action, e.reason, e.note])).toEqual(steps.map((s) => [s.phase, s.reason, s.message]));
    const reasons = events.map((e) => e.reason);
    expect(reasons[0]).toBe('WaitingForQuota');
    expect(reasons.indexOf('Running')).toBeGreaterThan(0);
    expect(reasons.at(-1)).toBe('Completed');
    for (const event of events) {
      expect(event).toMatchObject({
        type: 'Normal',
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: IDENTITY,
        regarding: {
          apiVersion: RUN_API_VERSION,
          kind: RUN_KIND,
          name: 'events-story',
          namespace: NS,
          uid: run.metadata.uid,
        },
      });
      expect(event.series).toBeUndefined();
    }

    const described = eventLines(await describeRun('events-story'));
    expect(described.map((line) => line.split(/\s+/).slice(1, 3))).toEqual(reasons.map((r) => ['Normal', r]));
    expect(described[0]).toMatch(
      new RegExp(`\\s${REPORTING_CONTROLLER}\\s+waiting for quota: team vision uses 16/16 GPUs$`),
    );
  });

  it('warns of an unschedulable run with the reason the controller found, once', async () => {
    await submit('events-nowhere', {
      pool: SIMULATED_CPU_POOL,
      job: { container: { image } },
      environment: { nodeSelector: { 'nvidia.com/gpu.product': 'nvidia-a100' } },
    });
    const run = await waitForRun(NS, 'events-nowhere', inPhase('unschedulable'));
    const [event] = await eventually('the Warning', async () => {
      const events = await eventsOn('events-nowhere');
      return events.some((e) => e.type === 'Warning') ? events.filter((e) => e.type === 'Warning') : undefined;
    });
    expect(event).toMatchObject({ reason: 'NoMatchingNode', action: 'unschedulable', note: run.status?.message });

    // Reconciled every 2 s, the run says nothing more while nothing changes.
    const before = await eventsOn('events-nowhere');
    await new Promise((r) => setTimeout(r, 7000));
    expect(await eventsOn('events-nowhere')).toEqual(before);

    const described = await describeRun('events-nowhere');
    expect(eventLines(described).at(-1)).toMatch(
      new RegExp(`^\\s+Warning\\s+NoMatchingNode\\s+\\S+\\s+${REPORTING_CONTROLLER}\\s+no node has all of the labels`),
    );
  });

  it('counts a repeated Event in its series, and makes it again if it has gone', async () => {
    // The recorder as the controller runs it: with the controller's own ServiceAccount and RBAC.
    const kc = await serviceAccountConfig('plinth', 'plinth-controller');
    const recorder = new EventRecorder(
      kc,
      { reportingController: REPORTING_CONTROLLER, reportingInstance: 'series' },
      pino({ level: 'silent' }),
    );
    const run = await getRun(NS, 'events-nowhere');
    const record: EventRecord = {
      regarding: {
        apiVersion: RUN_API_VERSION,
        kind: RUN_KIND,
        name: 'events-nowhere',
        namespace: NS,
        uid: String(run.metadata.uid),
      },
      type: 'Warning',
      reason: 'SeriesTest',
      action: 'test',
      note: `a note longer than the API server takes: ${'é'.repeat(1000)}`,
    };
    const series = async () => (await eventsOn('events-nowhere')).filter((e) => e.reason === 'SeriesTest');

    recorder.record(record);
    await recorder.settled();
    const [first] = await series();
    expect(first?.eventTime).toMatch(/\.\d{6}Z$/);
    expect(Buffer.byteLength(first?.note ?? '')).toBeLessThanOrEqual(1024);
    expect(first?.series).toBeUndefined();

    recorder.record(record);
    recorder.record(record);
    await recorder.settled();
    const [counted, ...others] = await series();
    expect(others).toEqual([]);
    expect(counted?.metadata?.name).toBe(first?.metadata?.name);
    expect(counted?.series?.count).toBe(3);
    expect(new Date(counted!.series!.lastObservedTime).getTime()).toBeGreaterThan(new Date(first!.eventTime).getTime());
    expect(eventLines(await describeRun('events-nowhere')).find((l) => l.includes('SeriesTest'))).toMatch(/\(x3 over /);

    // Gone (the API server's event TTL, or deleted): the next repeat makes it again, with its count.
    await kubeConfigAs('admin')
      .makeApiClient(EventsV1Api)
      .deleteNamespacedEvent({ name: first!.metadata!.name!, namespace: NS });
    recorder.record(record);
    await recorder.settled();
    const [again] = await series();
    expect(again?.metadata?.name).toBe(first?.metadata?.name);
    expect(again?.series?.count).toBe(4);
  });
});
