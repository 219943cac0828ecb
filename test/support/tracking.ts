import { MlflowClient } from '../../controller/tracking/mlflow-client.js';
import { TRACKING_COMPONENT, TRACKING_PORT } from '../../model/names.js';
import { cluster, eventually, kubeconfigFileOf } from './cluster-clients.js';
import { portForward } from './port-forward.js';

let endpoint: Promise<string> | undefined;

/**
 * The tracking server as a controller the tests run on this machine reaches it: one port-forward
 * per test worker, started on first use. Undefined where no node is real: the simulated platform's
 * tracking server never runs, and its controllers run with `--no-tracking`.
 */
export function trackingEndpoint(): Promise<string> | undefined {
  if (cluster().realNodes.length === 0) return undefined;
  endpoint ??= answering(portForward(kubeconfigFileOf('admin'), cluster().binDirs, TRACKING_COMPONENT, TRACKING_PORT));
  return endpoint;
}

/** The URL once MLflow answers there: the platform was just applied, and MLflow takes a minute to start. */
async function answering(url: Promise<string>): Promise<string> {
  const base = await url;
  await eventually(
    'the tracking server to answer',
    async () => {
      const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      return health?.ok ? true : undefined;
    },
    240_000,
  );
  return base;
}

/** The tracking server's REST API, as the tests read runs back from it. */
export async function trackingClient(): Promise<MlflowClient> {
  const url = trackingEndpoint();
  if (!url) throw new Error('the tracking server runs only where nodes are real');
  return new MlflowClient(await url, 30_000);
}
