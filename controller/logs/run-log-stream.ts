import { setTimeout as delay } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { runLogsPrefix } from '../../model/store-layout.js';
import { streamContainerLog, type ContainerLogSources } from './container-log-stream.js';
import { lineTime } from './log-chunks.js';
import { archivedContainer, describeTargets, runLogTargets, type RunLogTarget } from './run-log-targets.js';

/** How often a followed run is looked at for pods it has made since (a retry, a restarted replica). */
const NEW_PODS_EVERY_MS = 2_000;

/** One read of a run's logs, as the read API was asked for it. */
export interface RunLogRead {
  readonly namespace: string;
  readonly team: string;
  readonly runUid: string;
  readonly pod: string | undefined;
  readonly container: string | undefined;
  readonly follow: boolean;
  readonly timestamps: boolean;
  readonly prefix: boolean;
}

/** Where a run's logs come from: the archive, and the run's pods while they exist. */
export interface RunLogSources extends Omit<ContainerLogSources, 'pod'> {
  /** The store's key prefix of everything the platform writes (the config's `artifacts.prefix`). */
  readonly storePrefix: string;
  /** The run's pods now, by its uid label. */
  runPods(): Promise<V1Pod[]>;
  /** One of them now, or undefined once it is gone. */
  pod(name: string): Promise<V1Pod | undefined>;
  /** Whether the run will make no more pods: it has finished, or it is gone. */
  runFinished(): Promise<boolean>;
}

/** A read that names a pod or container the run does not have. */
export class NoSuchLog extends Error {}

/** What a run has a log of: the containers the archive holds (with each one's first chunk), and its pods now. */
async function whatRunHas(
  run: Pick<RunLogRead, 'team' | 'runUid'>,
  sources: Pick<RunLogSources, 'store' | 'storePrefix' | 'runPods'>,
) {
  const runPrefix = runLogsPrefix(sources.storePrefix, run.team, run.runUid);
  const firstKeys = new Map<string, string>();
  for (const key of await sources.store.list(runPrefix)) {
    const container = archivedContainer(key.slice(runPrefix.length));
    const id = container && `${container.pod}/${container.container}`;
    if (id && !firstKeys.has(id)) firstKeys.set(id, key);
  }
  const archived = [...firstKeys.keys()].map((id) => {
    const [pod = '', container = ''] = id.split('/');
    return { pod, container };
  });
  return { archived, firstKeys, pods: await sources.runPods() };
}

/** One container of a run, as the RunLogs object lists it. */
export interface RunLogContainer {
  readonly pod: string;
  readonly container: string;
  /** Whether the archive holds some of its log. */
  readonly archived: boolean;
  /** Whether its pod exists, so that the kubelet serves its latest lines too. */
  readonly live: boolean;
}

/** Every container of a run that has or may have a log, in the order they started. */
export async function runLogContainers(
  run: Pick<RunLogRead, 'team' | 'runUid'>,
  sources: Pick<RunLogSources, 'store' | 'storePrefix' | 'runPods'>,
): Promise<RunLogContainer[]> {
  const { archived, pods } = await whatRunHas(run, sources);
  const kept = new Set(archived.map((a) => `${a.pod}/${a.container}`));
  const live = new Set(pods.map((p) => p.metadata?.name ?? ''));
  return runLogTargets(archived, pods, () => undefined, {}).map((t) => ({
    pod: t.pod,
    container: t.container,
    archived: kept.has(`${t.pod}/${t.container}`),
    live: live.has(t.pod),
  }));
}

/** A line as the reader asked for it: with or without the kubelet's stamp, with or without its container. */
function formatter(read: RunLogRead, target: RunLogTarget): (line: string) => string {
  const label = read.prefix ? `[${target.pod}/${target.container}] ` : '';
  return (line) => {
    const stamp = read.timestamps ? undefined : lineTime(line);
    return `${label}${stamp === undefined ? line : line.slice(stamp.length + 1)}\n`;
  };
}

/**
 * The containers a read covers, in the order they started when `ordered` (an archived container's
 * first line says when), or NoSuchLog when it names a pod or container the run has no log of.
 */
async function planTargets(
  read: Pick<RunLogRead, 'team' | 'runUid' | 'pod' | 'container'>,
  sources: Pick<RunLogSources, 'store' | 'storePrefix' | 'runPods'>,
  ordered: boolean,
): Promise<RunLogTarget[]> {
  const only = { pod: read.pod, container: read.container };
  const { archived, firstKeys, pods } = await whatRunHas(read, sources);
  let targets = runLogTargets(archived, pods, () => undefined, only);
  if ((read.pod !== undefined || read.container !== undefined) && targets.length === 0) {
    const what = [read.pod && `pod "${read.pod}"`, read.container && `container "${read.container}"`]
      .filter(Boolean)
      .join(' and ');
    throw new NoSuchLog(`the run has no log of ${what}; it has: ${describeTargets(archived, pods)}`);
  }
  if (ordered && targets.length > 1) {
    const firsts = new Map<string, string | undefined>();
    for (const t of targets) {
      const key = firstKeys.get(`${t.pod}/${t.container}`);
      const first = key ? (await sources.store.get(key)).slice(0, 64) : undefined;
      firsts.set(`${t.pod}/${t.container}`, first ? lineTime(first) : undefined);
    }
    targets = runLogTargets(archived, pods, (pod, container) => firsts.get(`${pod}/${container}`), only);
  }
  return targets;
}

/**
 * Throws NoSuchLog if a read names a pod or container the run has no log of: asked before a log
 * starts, while the answer can still be an error.
 */
export async function checkLogExists(
  read: Pick<RunLogRead, 'team' | 'runUid' | 'pod' | 'container'>,
  sources: Pick<RunLogSources, 'store' | 'storePrefix' | 'runPods'>,
): Promise<void> {
  if (read.pod !== undefined || read.container !== undefined) await planTargets(read, sources, false);
}

/**
 * Streams a run's logs to `write`: every container of every pod it had, init containers and
 * platform steps included, from the archive and from the pods that still exist (container-log-
 * stream.ts). Without `follow`, one container after another, in the order they started. With
 * `follow`, every container at once, each line whole, until the run has finished and every
 * container has ended; pods the run makes meanwhile are taken up as they appear.
 */
export async function streamRunLogs(
  read: RunLogRead,
  sources: RunLogSources,
  write: (text: string) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const plan = (ordered: boolean) => planTargets(read, sources, ordered);

  // A stream that fails stops the others: the read ends with the failure.
  const stopAll = new AbortController();
  const streamSignal = AbortSignal.any([signal, stopAll.signal]);
  const stream = (target: RunLogTarget, follow: boolean) => {
    const format = formatter(read, target);
    return streamContainerLog(
      {
        namespace: read.namespace,
        log: {
          prefix: sources.storePrefix,
          team: read.team,
          runUid: read.runUid,
          pod: target.pod,
          container: target.container,
        },
      },
      { store: sources.store, readLive: sources.readLive, pod: () => sources.pod(target.pod) },
      (lines) => write(lines.map(format).join('')),
      { follow, signal: streamSignal },
    );
  };

  if (!read.follow) {
    for (const target of await plan(true)) {
      if (signal.aborted) return;
      await stream(target, false);
    }
    return;
  }

  const started = new Set<string>();
  const streams: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const startNew = async () => {
    // Followed all at once: their order does not matter.
    for (const target of await plan(false)) {
      const id = `${target.pod}/${target.container}`;
      if (started.has(id)) continue;
      started.add(id);
      streams.push(
        stream(target, true).catch((error: unknown) => {
          failure ??= { error };
          stopAll.abort();
        }),
      );
    }
  };
  while (!streamSignal.aborted) {
    // Asked before the pods are listed: a run that has finished has made all the pods it will.
    const finished = await sources.runFinished();
    await startNew();
    if (finished) break;
    await delay(NEW_PODS_EVERY_MS, undefined, { signal: streamSignal }).catch(() => undefined);
  }
  await Promise.all(streams);
  if (failure) throw failure.error;
}
