import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { runLogsPrefix } from '../../model/store-layout.js';
import { OBJECT_STORE_COMPONENT, OBJECT_STORE_PORTS, LOG_ARCHIVE_SECRET } from '../../model/names.js';
import { cluster, eventually, kubeconfigFileOf } from './cluster-clients.js';

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
  access ??= openLogArchiveAccess(kubeconfigFileOf('admin'), cluster().binDirs);
  return access;
}

async function portForward(kubeconfig: string, binDirs: readonly string[]): Promise<string> {
  const PATH = [...binDirs, process.env['PATH'] ?? ''].join(delimiter);
  const child = spawn(
    'kubectl',
    [
      '--kubeconfig',
      kubeconfig,
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

/** A port-forward to the store and the controller's credential, as the admin of a cluster (a benchmark's own, say). */
export async function openLogArchiveAccess(kubeconfig: string, binDirs: readonly string[]): Promise<LogArchiveAccess> {
  // The store's pod may still be starting when the first suite does.
  const endpoint = await eventually(
    'a port-forward to the artifact store',
    () => portForward(kubeconfig, binDirs).catch(() => undefined),
    180_000,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: LOG_ARCHIVE_SECRET, namespace: 'plinth' });
  const value = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString();
  return {
    endpoint,
    env: { AWS_ACCESS_KEY_ID: value('AWS_ACCESS_KEY_ID'), AWS_SECRET_ACCESS_KEY: value('AWS_SECRET_ACCESS_KEY') },
  };
}

/** One container's archived log: each line's text and the kubelet's time for it. */
export interface ArchivedLog {
  readonly lines: string[];
  readonly times: string[];
}

/**
 * Every archived line of a run, read back from the store as the team would, by `<pod>/<container>`,
 * in the order of the chunk keys.
 */
export async function readArchive(
  access: LogArchiveAccess,
  store: { bucket: string; region: string; prefix: string },
  team: string,
  runUid: string,
): Promise<Map<string, ArchivedLog>> {
  const s3 = new S3Client({
    region: store.region,
    endpoint: access.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: access.env['AWS_ACCESS_KEY_ID'] ?? '',
      secretAccessKey: access.env['AWS_SECRET_ACCESS_KEY'] ?? '',
    },
  });
  const prefix = runLogsPrefix(store.prefix, team, runUid);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const byContainer = new Map<string, ArchivedLog>();
  for (const key of keys.sort()) {
    const [pod, container] = key.slice(prefix.length).split('/');
    const object = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    const where = `${pod}/${container}`;
    const log = byContainer.get(where) ?? { lines: [], times: [] };
    for (const line of text.split('\n').filter((l) => l.length > 0)) {
      const space = line.indexOf(' ');
      log.times.push(line.slice(0, space));
      log.lines.push(line.slice(space + 1));
    }
    byContainer.set(where, log);
  }
  return byContainer;
}
