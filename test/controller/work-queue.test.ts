import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../controller/work-queue.js';

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands out a key being processed; a change meanwhile re-queues it after', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.depth).toBe(0);
    q.done(key!);
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('backs off a failing key exponentially', async () => {
    const q = new WorkQueue(20);
    const started = Date.now();
    q.addRateLimited('a'); // 20 ms
    await q.get().then((k) => q.done(k!));
    q.addRateLimited('a'); // 40 ms
    await q.get();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
  });
});
