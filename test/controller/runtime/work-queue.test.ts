import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../controller/runtime/work-queue.js';

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

  it('serves urgent keys first, and promotes a waiting key once, without duplicating it', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('new', true);
    q.add('b', true);
    expect(q.depth).toBe(3);
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const key = await q.get();
      order.push(key);
      q.done(key!);
    }
    expect(order).toEqual(['new', 'b', 'a']);
    expect(q.depth).toBe(0);
  });

  it('adds a key delayed several times once, at the earliest of its times', async () => {
    const q = new WorkQueue();
    const started = Date.now();
    q.addAfter('a', 200);
    q.addAfter('a', 30);
    q.addAfter('a', 500);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(Date.now() - started).toBeLessThan(190);
    await new Promise((r) => setTimeout(r, 600));
    expect(q.depth).toBe(0);
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
  });
});
