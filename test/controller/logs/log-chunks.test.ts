import { describe, expect, it } from 'vitest';
import { ContainerArchive, nextRead, PendingBudget } from '../../../controller/logs/container-archive.js';
import {
  chunkKey,
  chunkOf,
  lineTime,
  resumeAfter,
  ResumeFilter,
  LogCursor,
  sinceTimeOf,
  START,
} from '../../../controller/logs/log-chunks.js';
import type { LogStore } from '../../../controller/logs/log-store.js';
import { memoryLogStore } from '../../support/memory-log-store.js';

const LOG = { prefix: 'plinth', team: 'vision', runUid: 'u-1', pod: 'train-abc', container: 'main' };
const at = (second: number, nanos: number, text: string) =>
  `2026-12-07T10:00:${String(second).padStart(2, '0')}.${String(nanos).padStart(9, '0')}Z ${text}`;

describe('chunk keys', () => {
  it('lay a container out under its run uid, attempt and seq zero-padded so that keys list in order', () => {
    expect(chunkKey(LOG, 1, 12)).toBe('plinth/logs/vision/u-1/train-abc/main/0001-000012.log');
    expect(chunkOf(chunkKey(LOG, 3, 7))).toEqual({ attempt: 3, seq: 7 });
    expect(chunkOf('plinth/logs/vision/u-1/train-abc/main/notes.txt')).toBeUndefined();
    expect([chunkKey(LOG, 0, 10), chunkKey(LOG, 0, 9), chunkKey(LOG, 1, 0)].sort()).toEqual([
      chunkKey(LOG, 0, 9),
      chunkKey(LOG, 0, 10),
      chunkKey(LOG, 1, 0),
    ]);
  });

  it("reads the kubelet's timestamp, and none from a line without one", () => {
    expect(lineTime(at(1, 5, 'hello world'))).toBe('2026-12-07T10:00:01.000000005Z');
    expect(lineTime('hello world')).toBeUndefined();
  });
});

describe('resuming', () => {
  it('skips what the archive has, counting lines that share the last time, and keeps the rest', () => {
    const stored = [at(1, 0, 'a'), at(2, 7, 'b'), at(2, 7, 'c')].join('\n') + '\n';
    const point = resumeAfter(stored, 0);
    expect(point).toEqual({ seq: 1, lastTime: '2026-12-07T10:00:02.000000007Z', linesAtLastTime: 2 });
    // The kubelet re-sends from the last line's whole second.
    expect(sinceTimeOf(point)).toBe('2026-12-07T10:00:02Z');
    const filter = new ResumeFilter(point);
    const reread = [at(2, 1, 'earlier'), at(2, 7, 'b'), at(2, 7, 'c'), at(2, 7, 'd'), at(3, 0, 'e')];
    expect(reread.filter((l) => filter.keep(l)).map((l) => l.slice(31))).toEqual(['d', 'e']);
  });

  it('keeps everything from the start', () => {
    const filter = new ResumeFilter(START);
    expect([at(1, 0, 'a'), 'no time'].filter((l) => filter.keep(l))).toHaveLength(2);
    expect(sinceTimeOf(START)).toBeUndefined();
  });
});

describe('the next read of a container', () => {
  const running = (restartCount: number) => ({
    name: 'main',
    image: 'i',
    imageID: '',
    ready: true,
    restartCount,
    state: { running: {} },
  });
  const ended = (restartCount: number) => ({ ...running(restartCount), state: { terminated: { exitCode: 0 } } });

  it.each([
    ['a container that has not started', { ...running(0), state: { waiting: {} } }, 0, false, { kind: 'caught-up' }],
    [
      'the running first instance, followed',
      running(0),
      0,
      false,
      { kind: 'read', attempt: 0, previous: false, follow: true },
    ],
    [
      'an ended instance, read to its end',
      ended(0),
      0,
      false,
      { kind: 'read', attempt: 0, previous: false, follow: false },
    ],
    ['an instance archived to its end', ended(0), 0, true, { kind: 'caught-up' }],
    [
      'the instance before the latest',
      running(1),
      0,
      false,
      { kind: 'read', attempt: 0, previous: true, follow: false },
    ],
    [
      'the next instance once one is done',
      running(1),
      0,
      true,
      { kind: 'read', attempt: 1, previous: false, follow: true },
    ],
    ['instances the kubelet no longer keeps', running(4), 1, false, { kind: 'lost', attempts: [1, 2], next: 3 }],
  ] as const)('%s', (_, status, attempt, done, expected) => {
    expect(nextRead(status as never, attempt, done)).toEqual(expected);
  });
});

describe('a log cursor', () => {
  it('gives each line once while a reader moves from the archive to the kubelet and back', () => {
    const cursor = new LogCursor();
    expect(cursor.take([at(1, 0, 'a'), at(2, 0, 'b'), at(2, 0, 'c')])).toEqual([
      at(1, 0, 'a'),
      at(2, 0, 'b'),
      at(2, 0, 'c'),
    ]);
    expect(cursor.sinceTime).toBe('2026-12-07T10:00:02Z');
    // The kubelet, asked from that second, repeats what the archive had.
    cursor.switchSource();
    expect(cursor.take([at(2, 0, 'b'), at(2, 0, 'c'), at(3, 0, 'd')])).toEqual([at(3, 0, 'd')]);
    // The archive again, from its start, once the pod is gone.
    cursor.switchSource();
    expect(cursor.take([at(1, 0, 'a'), at(2, 0, 'b'), at(2, 0, 'c'), at(3, 0, 'd'), at(4, 0, 'e')])).toEqual([
      at(4, 0, 'e'),
    ]);
  });

  it('keeps a line that shares its time with lines already given, past their count', () => {
    const cursor = new LogCursor();
    cursor.take([at(1, 5, 'x')]);
    cursor.switchSource();
    expect(cursor.take([at(1, 5, 'x'), at(1, 5, 'x'), at(1, 6, 'y')])).toEqual([at(1, 5, 'x'), at(1, 6, 'y')]);
  });
});

/** A promise and its resolve, apart. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a container archive', () => {
  it('writes numbered chunks, and one loaded from them resumes without repeating a line', async () => {
    const store = memoryLogStore();
    const first = new ContainerArchive(store, LOG);
    await first.load();
    await first.readFor({ namespace: 'n', pod: LOG.pod, container: 'main', previous: false, follow: true });
    await first.add([at(1, 0, 'a'), at(1, 0, 'b')]);
    await first.flush();
    await first.add([at(2, 0, 'c')]);
    await first.flush();
    expect([...store.objects.keys()]).toEqual([chunkKey(LOG, 0, 0), chunkKey(LOG, 0, 1)]);

    // A second archiver (after a restart) reads the attempt again from the kubelet.
    const second = new ContainerArchive(store, LOG);
    await second.load();
    const read = await second.readFor({
      namespace: 'n',
      pod: LOG.pod,
      container: 'main',
      previous: false,
      follow: true,
    });
    expect(read.sinceTime).toBe('2026-12-07T10:00:02Z');
    await second.add([at(2, 0, 'c'), at(3, 0, 'd')]);
    await second.flush();
    expect(store.objects.get(chunkKey(LOG, 0, 2))).toBe(`${at(3, 0, 'd')}\n`);
  });

  it('starts a read again only once the write under way has ended, so that its lines are not read twice', async () => {
    const store = memoryLogStore();
    const gate = deferred();
    const putting = deferred();
    const slow: LogStore = {
      ...store,
      put: async (key, body) => {
        putting.resolve();
        await gate.promise;
        await store.put(key, body);
      },
    };
    const archive = new ContainerArchive(slow, LOG);
    const read = { namespace: 'n', pod: LOG.pod, container: 'main', previous: false, follow: true };
    await archive.readFor(read);
    await archive.add([at(1, 0, 'a'), at(2, 0, 'b')]);
    // The flush timer's write is out when the read fails and is made again.
    const writing = archive.flush();
    await putting.promise;
    archive.discardPending();
    const again = archive.readFor(read);
    gate.resolve();
    await writing;
    expect((await again).sinceTime).toBe('2026-12-07T10:00:02Z');
    await archive.add([at(1, 0, 'a'), at(2, 0, 'b'), at(3, 0, 'c')]);
    await archive.flush();
    expect(store.objects.get(chunkKey(LOG, 0, 1))).toBe(`${at(3, 0, 'c')}\n`);
  });

  it('resumes past lines that share one time across chunks, writing none of them again', async () => {
    const store = memoryLogStore();
    // A burst stamped with one time, cut by a chunk boundary: two lines in chunk 0, three in chunk 1.
    await store.put(chunkKey(LOG, 0, 0), [at(1, 0, 'a'), at(2, 5, 'b1'), at(2, 5, 'b2')].join('\n') + '\n');
    await store.put(chunkKey(LOG, 0, 1), [at(2, 5, 'b3'), at(2, 5, 'b4'), at(2, 5, 'b5')].join('\n') + '\n');
    const archive = new ContainerArchive(store, LOG);
    await archive.load();
    await archive.readFor({ namespace: 'n', pod: LOG.pod, container: 'main', previous: false, follow: true });
    // The kubelet gives the burst again from its second: only what follows it is new.
    await archive.add([at(2, 5, 'b1'), at(2, 5, 'b2'), at(2, 5, 'b3'), at(2, 5, 'b4'), at(2, 5, 'b5'), at(3, 0, 'c')]);
    await archive.flush();
    expect(store.objects.get(chunkKey(LOG, 0, 2))).toBe(`${at(3, 0, 'c')}\n`);
  });

  it('writes a chunk early when every archive together holds more than the budget', async () => {
    const store = memoryLogStore();
    const budget = new PendingBudget(100);
    const one = new ContainerArchive(store, LOG, budget);
    const other = new ContainerArchive(store, { ...LOG, container: 'sidecar' }, budget);
    await one.add([at(1, 0, 'a'.repeat(40))]);
    expect(store.objects.size).toBe(0);
    // The other archive's line takes the two past the budget: it writes its own chunk at once.
    await other.add([at(1, 0, 'b'.repeat(40))]);
    expect([...store.objects.keys()]).toEqual([chunkKey({ ...LOG, container: 'sidecar' }, 0, 0)]);
    expect(budget.bytes).toBe(at(1, 0, 'a'.repeat(40)).length + 1);
    one.discardPending();
    expect(budget.bytes).toBe(0);
  });

  it('keeps the lines of a failed write for the next one', async () => {
    const store = memoryLogStore();
    let fail = true;
    const flaky: LogStore = {
      ...store,
      put: async (key, body) => {
        if (fail) throw new Error('store down');
        await store.put(key, body);
      },
    };
    const archive = new ContainerArchive(flaky, LOG);
    await archive.add([at(1, 0, 'a')]);
    await expect(archive.flush()).rejects.toThrow('store down');
    fail = false;
    await archive.add([at(2, 0, 'b')]);
    await archive.flush();
    expect(store.objects.get(chunkKey(LOG, 0, 0))).toBe(`${at(1, 0, 'a')}\n${at(2, 0, 'b')}\n`);
  });
});
