import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { OBJECT_STORE_COMPONENT, OBJECT_STORE_PORTS, LOG_ARCHIVE_SECRET } from '../../model/names.js';
import { cluster, eventually, kubeConfigAs, kubeconfigFileOf } from './cluster-clients.js';

/**
 * How a controller the tests run on this machine reaches the log archive: the in-cluster
 * controller reaches the store at its Service, which this machine cannot resolve, so the tests
 * reach it through `kubectl port-forward` (which the store's NetworkPolicy does not see, as a
 * developer's `npm run controller` would), with the controller's own credential, read from its
 * Secret as the Deployment's env reads it.
 */
export interface LogArchiveAccess {
  /** The controller's `--log-archive-endpoint`. */
  readonly endpoint: string;
  /** The controller's store credential, as env. */
  readonly env: Record<string, string>;
}

let forward: ChildProcess | undefined;
let access: Promise<LogArchiveAccess> | undefined;
process.once('exit', () => forward?.kill('SIGKILL'));

/** One port-forward per test worker, started on first use; undefined where no node is real (nothing to archive). */
export function logArchiveAccess(): Promise<LogArchiveAccess> | undefined {
  if (cluster().realNodes.length === 0) return undefined;
  access ??= open();
  return access;
}

async function portForward(): Promise<string> {
  const PATH = [...cluster().binDirs, process.env['PATH'] ?? ''].join(delimiter);
  const child = spawn(
    'kubectl',
    [
      '--kubeconfig',
      kubeconfigFileOf('admin'),
      'port-forward',
      '-n',
      'plinth',
      `service/${OBJECT_STORE_COMPONENT}`,
      `0:${OBJECT_STORE_PORTS.s3}`,
    ],
    { env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (port) {
        forward = child;
        resolve(`http://127.0.0.1:${port}`);
      }
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`kubectl port-forward to the store exited ${code}: ${err}`)));
  });
}

async function open(): Promise<LogArchiveAccess> {
  // The store's pod may still be starting when the first suite does.
  const endpoint = await eventually(
    'a port-forward to the artifact store',
    () => portForward().catch(() => undefined),
    180_000,
  );
  const secret = await kubeConfigAs('admin')
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: LOG_ARCHIVE_SECRET, namespace: 'plinth' });
  const value = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString();
  return {
    endpoint,
    env: { AWS_ACCESS_KEY_ID: value('AWS_ACCESS_KEY_ID'), AWS_SECRET_ACCESS_KEY: value('AWS_SECRET_ACCESS_KEY') },
  };
}
