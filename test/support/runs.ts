import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import {
  RUN_API_VERSION,
  RUN_GROUP,
  RUN_KIND,
  RUN_PLURAL,
  RUN_VERSION,
  type Run,
  type RunSpec,
} from '../../controller/api/run.js';
import { eventually, kubeConfigAs } from './cluster-clients.js';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';

const api = (kc: KubeConfig = kubeConfigAs('admin')) => kc.makeApiClient(CustomObjectsApi);

export async function getRun(namespace: string, name: string): Promise<Run> {
  return (await api().getNamespacedCustomObject({
    group: RUN_GROUP,
    version: RUN_VERSION,
    plural: RUN_PLURAL,
    namespace,
    name,
  })) as Run;
}

/** Submits a run as a team editor would. */
export async function submitRun(
  namespace: string,
  name: string,
  spec: Parameters<typeof runObject>[1] = {},
): Promise<void> {
  const status = await createRun(kubeConfigAs('admin'), namespace, runObject(name, spec));
  if (status !== 201) throw new Error(`creating run ${namespace}/${name} failed with HTTP ${status}`);
}

export async function patchRun(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await api().patchNamespacedCustomObject(
    { group: RUN_GROUP, version: RUN_VERSION, plural: RUN_PLURAL, namespace, name, body: { spec } },
    // Merge patch: the client's default for custom objects is a JSON patch.
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Waits until the run's status satisfies `done`, and returns the run. */
export async function waitForRun(
  namespace: string,
  name: string,
  done: (run: Run) => boolean,
  timeoutMs = 60_000,
): Promise<Run> {
  let last: Run | undefined;
  try {
    return await eventually(
      `run ${namespace}/${name}`,
      async () => {
        last = await getRun(namespace, name);
        return done(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`, { cause: error });
  }
}

export const inPhase =
  (...phases: string[]) =>
  (run: Run) =>
    phases.includes(run.status?.phase ?? '');

/** A Run: a job on the simulated cpu pool unless `spec` says otherwise; a job's section is filled in if missing. */
export function runObject(name: string, spec: Partial<RunSpec> = {}) {
  const kind = spec.kind ?? 'job';
  const job = kind === 'job' ? { job: { container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } } } : {};
  return {
    apiVersion: RUN_API_VERSION,
    kind: RUN_KIND,
    metadata: { name },
    spec: { kind, pool: SIMULATED_CPU_POOL, ...job, ...spec },
  };
}

/** Creates a Run as the identity behind `kc`; resolves to the HTTP status. */
export async function createRun(kc: KubeConfig, namespace: string, body: object): Promise<number> {
  try {
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      namespace,
      plural: RUN_PLURAL,
      body,
    });
    return 201;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

/** Deletes runs and waits until they, and their pods, are gone. */
export async function deleteRuns(kc: KubeConfig, namespace: string, names: string[]): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) {
    await api
      .deleteNamespacedCustomObject({ group: RUN_GROUP, version: RUN_VERSION, plural: RUN_PLURAL, namespace, name })
      .catch((e: unknown) => {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
      });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const runs = (await api.listNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace,
    })) as {
      items: { metadata: { name: string } }[];
    };
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'plinth.dev/run' });
    const left = runs.items.filter((r) => names.includes(r.metadata.name)).length;
    const podsLeft = pods.items.filter((p) => names.includes(p.metadata?.labels?.['plinth.dev/run'] ?? '')).length;
    if (left === 0 && podsLeft === 0) return;
    if (Date.now() > deadline)
      throw new Error(`runs ${names.join(', ')} still present after 60s (${left} runs, ${podsLeft} pods)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The runs a suite submits, remembered so that its afterAll can delete every one. */
export function submittedRuns(namespace: string) {
  const names: string[] = [];
  return {
    names,
    async submit(name: string, spec: Parameters<typeof runObject>[1] = {}): Promise<void> {
      names.push(name);
      await submitRun(namespace, name, spec);
    },
  };
}
