import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { runLogsPrefix } from '../../model/store-layout.js';
import { OBJECT_STORE_COMPONENT, OBJECT_STORE_PORTS, LOG_ARCHIVE_SECRET } from '../../model/names.js';
import { cluster, kubeconfigFileOf } from './cluster-clients.js';
import { portForward } from './port-forward.js';

/**
 * How a controller the tests run on this machine reaches the log archive: through a port-forward
 * to the store (port-forward.ts), with the controller's own credential, read from its Secret as
 * the Deployment's env reads it.
 */
export interface LogArchiveAccess {
  /** The controller's `--log-archive-endpoint`. */
  readonly endpoint: string;
  /** The controller's store credential, as env. */
  readonly env: Record<string, string>;
}

let access: Promise<LogArchiveAccess> | undefined;

/** One port-forward per test worker, started on first use; undefined where no node is real (nothing to archive). */
export function logArchiveAccess(): Promise<LogArchiveAccess> | undefined {
  if (cluster().realNodes.length === 0) return undefined;
  access ??= openLogArchiveAccess(kubeconfigFileOf('admin'), cluster().binDirs);
  return access;
}

/** A port-forward to the store and the controller's credential, as the admin of a cluster (a benchmark's own, say). */
export async function openLogArchiveAccess(kubeconfig: string, binDirs: readonly string[]): Promise<LogArchiveAccess> {
  const endpoint = await portForward(kubeconfig, binDirs, OBJECT_STORE_COMPONENT, OBJECT_STORE_PORTS.s3);
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
    // Through a port-forward, which drops a connection now and then.
    maxAttempts: 10,
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
