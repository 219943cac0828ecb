import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { eventually, kubeConfigAs } from './cluster.js';
import { createRun, runObject } from './identities.js';

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
