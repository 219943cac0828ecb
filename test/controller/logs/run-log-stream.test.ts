import { describe, expect, it } from 'vitest';
import { chunkKey } from '../../../controller/logs/log-chunks.js';
import {
  NoSuchLog,
  runLogContainers,
  streamRunLogs,
  type RunLogRead,
} from '../../../controller/logs/run-log-stream.js';
import { memoryLogStore } from '../../support/memory-log-store.js';

const RUN = { prefix: 'plinth', team: 'vision', runUid: 'u-1' };
const at = (second: number, text: string) => `2026-12-07T10:00:${String(second).padStart(2, '0')}.000000000Z ${text}`;
const READ: RunLogRead = {
  namespace: 'plinth-vision',
  team: 'vision',
  runUid: 'u-1',
  pod: undefined,
  container: undefined,
  follow: false,
  timestamps: false,
  prefix: true,
};

/** A retried run whose two pods are gone: the second pod's name sorts first, its lines come later. */
async function retriedRun() {
  const store = memoryLogStore();
  const put = (pod: string, container: string, lines: string[]) =>
    store.put(chunkKey({ ...RUN, pod, container }, 0, 0), lines.join('\n') + '\n');
  await put('train-zz', 'plinth-network', [at(1, 'gate open')]);
  await put('train-zz', 'main', [at(2, 'first attempt'), at(3, 'failed')]);
  await put('train-aa', 'plinth-network', [at(10, 'gate open')]);
  await put('train-aa', 'main', [at(11, 'second attempt')]);
  return {
    store,
    storePrefix: RUN.prefix,
    readLive: () => Promise.reject(new Error('no pod is left to read')),
    runPods: async () => [],
    pod: async () => undefined,
    runFinished: async () => true,
  };
}

async function read(overrides: Partial<RunLogRead>): Promise<string> {
  let text = '';
  await streamRunLogs(
    { ...READ, ...overrides },
    await retriedRun(),
    async (t) => void (text += t),
    new AbortController().signal,
  );
  return text;
}

describe("a run's log", () => {
  it('gives every container of every pod in the order they started, each line labelled', async () => {
    expect(await read({})).toBe(
      [
        '[train-zz/plinth-network] gate open',
        '[train-zz/main] first attempt',
        '[train-zz/main] failed',
        '[train-aa/plinth-network] gate open',
        '[train-aa/main] second attempt',
        '',
      ].join('\n'),
    );
  });

  it('gives one container of every pod, as the kubelet stamped it if asked, and names what the run lacks', async () => {
    expect(await read({ container: 'main', prefix: false, timestamps: true })).toBe(
      [at(2, 'first attempt'), at(3, 'failed'), at(11, 'second attempt'), ''].join('\n'),
    );
    await expect(read({ container: 'sidecar' })).rejects.toThrow(NoSuchLog);
    await expect(read({ container: 'sidecar' })).rejects.toThrow(
      'the run has no log of container "sidecar"; it has: train-aa/main, train-aa/plinth-network, train-zz/main, train-zz/plinth-network',
    );
  });

  it('lists what it has a log of, archived or live', async () => {
    const containers = await runLogContainers(RUN, await retriedRun());
    expect(containers.every((c) => c.archived && !c.live)).toBe(true);
    expect(containers).toHaveLength(4);
  });
});
