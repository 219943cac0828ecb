import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { RUNS } from '../../controller/api/children.js';
import { CONTROLLER_METRICS as M } from '../../controller/api/metrics.js';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from '../../controller/api/platform-defaults.js';
import { REASON } from '../../controller/api/reasons.js';
import { RUN_API_VERSION, RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { ApiWriter } from '../../controller/runtime/api-writer.js';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { sample } from '../support/prometheus.js';
import {
  createRun,
  deleteRuns,
  getRun,
  inPhase,
  patchRun,
  runObject,
  submittedRuns,
  waitForRun,
} from '../support/runs.js';

const NS = 'plinth-nlp';
const RETENTION = '4s';
const RETENTION_MS = 4000;
/** A job that runs until it is stopped. */
const LONG = { environment: { annotations: { [DURATION_ANNOTATION]: '10m' } } };
const admin = () => kubeConfigAs('admin');
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;
let shippedDefaults: string;

/** The controller's ConfigMap, whose text the controller reads at start. */
async function writeDefaults(text: string): Promise<void> {
  const core = admin().makeApiClient(CoreV1Api);
  const map = await core.readNamespacedConfigMap({ name: CONTROLLER_NAME, namespace: 'plinth' });
  map.data = { ...map.data, [PLATFORM_DEFAULTS_KEY]: text };
  await core.replaceNamespacedConfigMap({ name: CONTROLLER_NAME, namespace: 'plinth', body: map });
}

const finishedAtOf = (run: Run): number => Date.parse(run.status?.finishedAt ?? '');
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

/** Resolves once the run is gone from the API server. */
const deleted = (name: string) =>
  eventually(`run ${name} to be deleted`, () =>
    getRun(NS, name).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof ApiException && error.code === 404) return true;
        throw error;
      },
    ),
  );

describe('finished runs are deleted after the retention', () => {
  beforeAll(async () => {
    const core = admin().makeApiClient(CoreV1Api);
    const map = await core.readNamespacedConfigMap({ name: CONTROLLER_NAME, namespace: 'plinth' });
    shippedDefaults = map.data?.[PLATFORM_DEFAULTS_KEY] ?? '';
    const defaults = JSON.parse(shippedDefaults) as PlatformDefaults;
    await writeDefaults(JSON.stringify({ ...defaults, runRetention: RETENTION }));
    controller = await startSyncedController('retention');
  });
  afterAll(async () => {
    try {
      await deleteRuns(admin(), NS, created);
      expect(await controller.stop()).toBe(0);
    } finally {
      await writeDefaults(shippedDefaults);
    }
  });

  it('deletes a finished top-level run at about the retention after it finished, and keeps a running one', async () => {
    await submit('retention-done');
    await submit('retention-running', LONG);
    const done = await waitForRun(NS, 'retention-done', inPhase('succeeded'));
    await waitForRun(NS, 'retention-running', inPhase('running'));

    await deleted('retention-done');
    expect(Date.now()).toBeGreaterThanOrEqual(finishedAtOf(done) + RETENTION_MS);
    expect(Date.now()).toBeLessThan(finishedAtOf(done) + RETENTION_MS + 15_000);
    expect((await getRun(NS, 'retention-running')).status?.phase).toBe('running');

    const events = await eventually('the RetentionExpired Event', async () => {
      const list = await admin()
        .makeApiClient(EventsV1Api)
        .listNamespacedEvent({ namespace: NS, fieldSelector: `regarding.uid=${done.metadata.uid}` });
      const found = list.items.filter((e) => e.reason === REASON.RetentionExpired);
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]?.note).toContain(`runs.retention (${RETENTION})`);
    const metrics = await (await fetch(controller.metricsUrl)).text();
    expect(sample(metrics, M.runsDeletedByRetention, { namespace: NS })).toBeGreaterThanOrEqual(1);
  });

  it('never deletes a child run on its own: it goes with its parent', async () => {
    await submit('retention-parent', LONG);
    const parent = await waitForRun(NS, 'retention-parent', inPhase('running'));
    const owner = {
      apiVersion: RUN_API_VERSION,
      kind: RUN_KIND,
      name: parent.metadata.name,
      uid: String(parent.metadata.uid),
      controller: true,
    };
    const child = runObject('retention-child');
    created.push(child.metadata.name);
    expect(await createRun(admin(), NS, { ...child, metadata: { ...child.metadata, ownerReferences: [owner] } })).toBe(
      201,
    );
    const finished = await waitForRun(NS, 'retention-child', inPhase('succeeded'));

    await sleepUntil(finishedAtOf(finished) + RETENTION_MS + 3000);
    expect((await getRun(NS, 'retention-child')).metadata.uid).toBe(finished.metadata.uid);

    await patchRun(NS, 'retention-parent', { stopped: true });
    await waitForRun(NS, 'retention-parent', inPhase('stopped'));
    await deleted('retention-parent');
    await deleted('retention-child');
  });

  it('keeps a run re-created under the name of one due, and deletes only the object it decided on', async () => {
    await submit('retention-again');
    const first = await waitForRun(NS, 'retention-again', inPhase('succeeded'));
    await deleteRuns(admin(), NS, ['retention-again']);
    await submit('retention-again', LONG);
    const second = await waitForRun(NS, 'retention-again', inPhase('running'));

    // Past the first run's due time, when the collector looks at the name again.
    await sleepUntil(finishedAtOf(first) + RETENTION_MS + 3000);
    expect((await getRun(NS, 'retention-again')).metadata.uid).toBe(second.metadata.uid);

    // A deletion decided on a cache that still holds the first run, or an older version of this
    // one, is refused by the API server.
    const writer = new ApiWriter(admin(), 'retention-test', new Map([[RUNS.kind, RUNS.plural]]));
    await expect(writer.delete(second, { uid: String(first.metadata.uid) })).rejects.toMatchObject({ code: 409 });
    const before = await getRun(NS, 'retention-again');
    await admin()
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject(
        {
          group: RUN_GROUP,
          version: RUN_VERSION,
          plural: RUN_PLURAL,
          namespace: NS,
          name: 'retention-again',
          body: { metadata: { labels: { touched: 'yes' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const stale = { uid: String(second.metadata.uid), resourceVersion: String(before.metadata['resourceVersion']) };
    await expect(writer.delete(second, stale)).rejects.toMatchObject({ code: 409 });
    expect((await getRun(NS, 'retention-again')).metadata.uid).toBe(second.metadata.uid);
  });
});
