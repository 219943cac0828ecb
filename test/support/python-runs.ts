import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { imageReference, LOCAL_REGISTRY } from '../../images/reference.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { kubeConfigAs } from './cluster-clients.js';

/** The platform's runtime image, as the local cluster's real nodes hold it. */
const PYTHON_IMAGE = imageReference('python', LOCAL_REGISTRY);

/**
 * A job run of a Python script, given line by line, on the real `cpu` pool, with what else the
 * spec should say (its connections, say) and the container's resources.
 */
export const pythonJob = (lines: readonly string[], options: { resources?: object; spec?: object } = {}) => ({
  pool: 'cpu',
  ...options.spec,
  job: {
    container: {
      image: PYTHON_IMAGE,
      command: ['python3', '-c', lines.join('\n')],
      ...(options.resources ? { resources: options.resources } : {}),
    },
  },
});

/** The pod of a run of one pod, if it has one yet. */
export async function podOfRun(namespace: string, run: string): Promise<V1Pod | undefined> {
  const pods = await kubeConfigAs('admin')
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace, labelSelector: `${PLINTH_LABELS.run}=${run}` });
  return pods.items[0];
}

/** What the run's own container printed, read through the API server as `kubectl logs` reads it. */
export async function logsOfRun(namespace: string, run: string): Promise<string> {
  const pod = (await podOfRun(namespace, run))?.metadata?.name;
  if (!pod) throw new Error(`run ${namespace}/${run} has no pod`);
  return kubeConfigAs('admin')
    .makeApiClient(CoreV1Api)
    .readNamespacedPodLog({ name: pod, namespace, container: 'main' });
}
