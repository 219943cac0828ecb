import { describe, expect, it } from 'vitest';
import { ApiException, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import type { LogRead } from '../../../controller/logs/container-log-reader.js';
import { streamContainerLog, type ContainerLogSources } from '../../../controller/logs/container-log-stream.js';
import { chunkKey } from '../../../controller/logs/log-chunks.js';
import { memoryLogStore } from '../../support/memory-log-store.js';

const LOG = { prefix: 'plinth', team: 'vision', runUid: 'u-1', pod: 'train-abc', container: 'main' };
const TARGET = { namespace: 'plinth-vision', log: LOG };
const at = (second: number, text: string) => `2026-12-07T10:00:${String(second).padStart(2, '0')}.000000000Z ${text}`;
/** Lines `from`..`to` of an instance, one a second. */
const lines = (instance: number, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => at(from + i, `${instance}:${from + i}`));

const podWith = (status: Partial<V1ContainerStatus>, phase = 'Running'): V1Pod => ({
  metadata: { name: LOG.pod },
  status: {
    phase,
    containerStatuses: [{ name: 'main', image: 'i', imageID: '', ready: false, restartCount: 0, ...status }],
  },
});
const running = (restartCount: number) =>
  podWith({
    restartCount,
    state: { running: {} },
    ...(restartCount > 0 ? { lastState: { terminated: { exitCode: 1 } } } : {}),
  });

/**
 * What the kubelet keeps of each instance, served from `sinceTime` (whole seconds) as the kubelet
 * does, and the reads asked of it. `goneAfter` lines, a read fails as for a pod that was deleted.
 */
function kubelet(instances: Record<number, string[]>, latest: number, goneAfter = Infinity) {
  const reads: LogRead[] = [];
  let served = 0;
  const readLive: ContainerLogSources['readLive'] = async (read, onLines) => {
    reads.push(read);
    const instance = read.previous ? latest - 1 : latest;
    const since = read.sinceTime ?? '';
    for (const line of instances[instance] ?? []) {
      if (line.slice(0, 19) < since.slice(0, 19)) continue;
      if (served >= goneAfter) throw new ApiException(404, 'pod not found', undefined, {});
      served += 1;
      await onLines([line]);
    }
  };
  return { reads, readLive };
}

async function read(sources: ContainerLogSources, follow = false): Promise<string[]> {
  const out: string[] = [];
  await streamContainerLog(TARGET, sources, async (l) => void out.push(...l), {
    follow,
    signal: new AbortController().signal,
  });
  return out;
}

describe("a container's log, from the archive and the pod", () => {
  it('gives the archived lines, then the newer ones from the kubelet, each once', async () => {
    const store = memoryLogStore();
    await store.put(chunkKey(LOG, 0, 0), lines(0, 0, 5).join('\n') + '\n');
    const { reads, readLive } = kubelet({ 0: lines(0, 0, 9) }, 0);
    const out = await read({ store, readLive, pod: async () => running(0) });
    expect(out).toEqual(lines(0, 0, 9));
    // Asked from the last archived line's second, not from the start.
    expect(reads).toEqual([expect.objectContaining({ previous: false, sinceTime: '2026-12-07T10:00:05Z' })]);
  });

  it('follows a running container, and reads the rest from the archive once its pod is gone mid-stream', async () => {
    const store = memoryLogStore();
    await store.put(chunkKey(LOG, 0, 0), lines(0, 0, 1).join('\n') + '\n');
    const kubeletOf = kubelet({ 0: lines(0, 0, 9) }, 0, 4);
    let gone = false;
    const readLive: ContainerLogSources['readLive'] = async (read, onLines, signal) => {
      try {
        await kubeletOf.readLive(read, onLines, signal);
      } catch (error) {
        // The pod went once the archiver had all of it: its logs finalizer held it until then.
        gone = true;
        await store.put(chunkKey(LOG, 0, 1), lines(0, 2, 9).join('\n') + '\n');
        throw error;
      }
    };
    const out = await read({ store, readLive, pod: async () => (gone ? undefined : running(0)) }, true);
    expect(out).toEqual(lines(0, 0, 9));
    expect(kubeletOf.reads).toEqual([expect.objectContaining({ follow: true, sinceTime: '2026-12-07T10:00:01Z' })]);
  });

  it("gives every instance in turn: the archive's alone for those the kubelet no longer keeps", async () => {
    const store = memoryLogStore();
    await store.put(chunkKey(LOG, 0, 0), lines(0, 0, 2).join('\n') + '\n');
    await store.put(chunkKey(LOG, 1, 0), lines(1, 3, 5).join('\n') + '\n');
    await store.put(chunkKey(LOG, 2, 0), lines(2, 6, 6).join('\n') + '\n');
    // The kubelet keeps instance 2 (the previous) and 3 (the latest).
    const { reads, readLive } = kubelet({ 2: lines(2, 6, 8), 3: lines(3, 9, 10) }, 3);
    const out = await read({ store, readLive, pod: async () => running(3) });
    expect(out).toEqual([...lines(0, 0, 2), ...lines(1, 3, 5), ...lines(2, 6, 8), ...lines(3, 9, 10)]);
    expect(reads.map((r) => r.previous)).toEqual([true, false]);
  });

  it('waits, when following, for a container that has not started, and ends once its pod has', async () => {
    const store = memoryLogStore();
    const { readLive } = kubelet({ 0: lines(0, 0, 2) }, 0);
    const states = [
      podWith({ state: { waiting: { reason: 'PodInitializing' } } }, 'Pending'),
      podWith({ state: { terminated: { exitCode: 0 } } }, 'Succeeded'),
    ];
    let looks = 0;
    const pod = async () => states[Math.min(states.length - 1, looks++ === 0 ? 0 : 1)];
    expect(await read({ store, readLive, pod }, true)).toEqual(lines(0, 0, 2));
  });

  it('reads nothing of a pod that never started, without following', async () => {
    const store = memoryLogStore();
    const { reads, readLive } = kubelet({}, 0);
    const pod = async () => podWith({ state: { waiting: { reason: 'ContainerCreating' } } }, 'Pending');
    expect(await read({ store, readLive, pod })).toEqual([]);
    expect(reads).toEqual([]);
  });
});
