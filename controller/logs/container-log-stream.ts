import { setTimeout as delay } from 'node:timers/promises';
import { ApiException, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import { chunkOf, containerLogPrefix, LogCursor, type ContainerLog } from './log-chunks.js';
import type { LogRead } from './container-log-reader.js';
import type { LogStore } from './log-store.js';

/** How often a followed container that has not started, or not restarted yet, is looked at again. */
const WAIT_FOR_START_MS = 1_000;
/** How long after a followed stream ended the container is looked at again. */
const FOLLOW_AGAIN_MS = 250;

/** Where a reader gets one container's log from: the archive, and the pod while it exists. */
export interface ContainerLogSources {
  readonly store: LogStore;
  /** The pod as it is now, or undefined once it is gone (or is another pod of the same name). */
  pod(): Promise<V1Pod | undefined>;
  /** Reads from the kubelet through `pods/log` (container-log-reader.ts). */
  readLive(read: LogRead, onLines: (lines: string[]) => Promise<void>, signal: AbortSignal): Promise<void>;
}

export interface ContainerLogTarget {
  readonly log: ContainerLog;
  readonly namespace: string;
}

/** Hands on lines as read, each as archived: the kubelet's stamp, a space, the line. */
export type LineSink = (lines: string[]) => Promise<void>;

const statusOf = (pod: V1Pod, name: string): V1ContainerStatus | undefined =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((c) => c.name === name);

const podOver = (pod: V1Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * The instances the kubelet still keeps, by number (the restart count it gave each): the latest,
 * and the one before it once that has ended. None while the container has not started.
 */
function liveInstances(status: V1ContainerStatus | undefined): { latest: number; previous: number | undefined } {
  const started = status?.state?.running ?? status?.state?.terminated ?? status?.lastState?.terminated;
  if (!status || !started) return { latest: -1, previous: undefined };
  const latest = status.restartCount;
  return { latest, previous: status.lastState?.terminated && latest > 0 ? latest - 1 : undefined };
}

/** An attempt's chunk keys, in order, by attempt. */
async function archivedAttempts(store: LogStore, log: ContainerLog): Promise<Map<number, string[]>> {
  const attempts = new Map<number, string[]>();
  for (const key of await store.list(containerLogPrefix(log))) {
    const chunk = chunkOf(key);
    if (chunk) attempts.set(chunk.attempt, [...(attempts.get(chunk.attempt) ?? []), key]);
  }
  return attempts;
}

const linesOf = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

/** Whether a read of the kubelet failed because what it asked for is gone: the pod, or the instance. */
const gone = (error: unknown): boolean => error instanceof ApiException && (error.code === 404 || error.code === 400);

/**
 * Streams one container's whole log, every instance in turn: what the archive holds of each, then,
 * for the instances the kubelet still keeps, the rest from the kubelet, following the latest while
 * it runs if asked to. Once the pod is gone the archive has every line (the pod's logs finalizer
 * keeps it until then), and the rest is read from there. A LogCursor per instance drops the lines
 * two sources both hold, so the reader gets every line once, in order.
 */
export async function streamContainerLog(
  target: ContainerLogTarget,
  sources: ContainerLogSources,
  sink: LineSink,
  options: { follow: boolean; signal: AbortSignal },
): Promise<void> {
  const { log } = target;
  const emitChunks = async (keys: readonly string[], cursor: LogCursor) => {
    for (const key of keys) {
      if (options.signal.aborted) return;
      const fresh = cursor.take(linesOf(await sources.store.get(key)));
      if (fresh.length > 0) await sink(fresh);
    }
  };
  // What the archive holds of an instance past what the cursor has handed on.
  const restFromArchive = async (attempt: number, cursor: LogCursor) => {
    cursor.switchSource();
    await emitChunks((await archivedAttempts(sources.store, log)).get(attempt) ?? [], cursor);
  };

  const streamAttempt = async (attempt: number, chunks: readonly string[]) => {
    const cursor = new LogCursor();
    await emitChunks(chunks, cursor);
    while (!options.signal.aborted) {
      const pod = await sources.pod();
      if (!pod) return restFromArchive(attempt, cursor);
      const status = statusOf(pod, log.container);
      const { latest, previous } = liveInstances(status);
      const isLatest = attempt === latest;
      // An older instance the kubelet no longer keeps: the archive was all there is.
      if (!isLatest && attempt !== previous) return;
      const following = options.follow && isLatest && status?.state?.running !== undefined;
      cursor.switchSource();
      const read: LogRead = {
        namespace: target.namespace,
        pod: log.pod,
        container: log.container,
        previous: !isLatest,
        follow: following,
        sinceTime: cursor.sinceTime,
      };
      try {
        await sources.readLive(
          read,
          async (lines) => {
            const fresh = cursor.take(lines);
            if (fresh.length > 0) await sink(fresh);
          },
          options.signal,
        );
      } catch (error) {
        if (options.signal.aborted) return;
        if (gone(error)) return restFromArchive(attempt, cursor);
        throw error;
      }
      if (!following) return;
      // A followed stream ends when the container exits, or when the connection drops: look again.
      await delay(FOLLOW_AGAIN_MS, undefined, { signal: options.signal }).catch(() => undefined);
    }
  };

  let next = 0;
  while (!options.signal.aborted) {
    const archived = await archivedAttempts(sources.store, log);
    const pod = await sources.pod();
    const { latest } = liveInstances(pod ? statusOf(pod, log.container) : undefined);
    const last = Math.max(latest, ...archived.keys());
    if (next > last) {
      // Every instance so far is read: a followed container that may still start or restart is waited for.
      if (!options.follow || !pod || podOver(pod)) return;
      await delay(WAIT_FOR_START_MS, undefined, { signal: options.signal }).catch(() => undefined);
      continue;
    }
    await streamAttempt(next, archived.get(next) ?? []);
    next += 1;
  }
}
