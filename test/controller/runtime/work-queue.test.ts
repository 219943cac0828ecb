import { describe, expect, it } from 'vitest';
import { CONTROLLER_METRICS } from '../../../controller/api/metrics.js';
import { createMetrics } from '../../../controller/metrics.js';
import { WorkQueue } from '../../../controller/runtime/work-queue.js';
import { sample } from '../../support/prometheus.js';

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
    const q = new WorkQueue({ baseDelayMs: 20 });
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

  it('waits out a delay longer than a timer can hold rather than adding the key at once', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 30 * 24 * 3600_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(q.depth).toBe(0);
    q.shutDown();
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
  });
});

describe('WorkQueue metrics', () => {
  const M = CONTROLLER_METRICS;
  const labels = { name: 'test', controller: 'test' };
  const instrumented = () => {
    const metrics = createMetrics();
    const q = new WorkQueue({ baseDelayMs: 1, metrics: metrics.workQueue(labels.name) });
    return { q, scrape: () => metrics.registry.metrics() };
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('counts a key added once however often it is added while it waits, and reports the depth', async () => {
    const { q, scrape } = instrumented();
    expect(sample(await scrape(), M.queueDepth, labels)).toBe(0);
    q.add('a');
    q.add('a');
    q.add('b', true);
    let text = await scrape();
    expect(sample(text, M.queueAdds, labels)).toBe(2);
    expect(sample(text, M.queueDepth, labels)).toBe(2);
    await q.get();
    text = await scrape();
    expect(sample(text, M.queueDepth, labels)).toBe(1);
  });

  it('counts a key added while processed once, and its wait from then', async () => {
    const { q, scrape } = instrumented();
    q.add('a');
    await q.get();
    q.add('a');
    await sleep(30);
    q.done('a');
    expect(sample(await scrape(), M.queueDepth, labels)).toBe(1);
    await q.get();
    const text = await scrape();
    expect(sample(text, M.queueAdds, labels)).toBe(2);
    expect(sample(text, `${M.queueDuration}_count`, labels)).toBe(2);
    expect(sample(text, `${M.queueDuration}_sum`, labels)).toBeGreaterThanOrEqual(0.025);
  });

  it('measures how long a key waits and how long a worker holds it', async () => {
    const { q, scrape } = instrumented();
    q.add('a');
    await sleep(30);
    await q.get();
    let text = await scrape();
    expect(sample(text, `${M.queueDuration}_count`, labels)).toBe(1);
    expect(sample(text, `${M.queueDuration}_sum`, labels)).toBeGreaterThanOrEqual(0.025);
    expect(sample(text, `${M.workDuration}_count`, labels) ?? 0).toBe(0);
    await sleep(40);
    q.done('a');
    text = await scrape();
    expect(sample(text, `${M.workDuration}_count`, labels)).toBe(1);
    expect(sample(text, `${M.workDuration}_sum`, labels)).toBeGreaterThanOrEqual(0.035);
  });

  it('reports the work in progress when scraped: its total and its longest', async () => {
    const { q, scrape } = instrumented();
    q.add('a');
    q.add('b');
    await q.get();
    await sleep(40);
    await q.get();
    await sleep(20);
    let text = await scrape();
    const longest = sample(text, M.longestRunningProcessor, labels)!;
    expect(longest).toBeGreaterThanOrEqual(0.055);
    expect(sample(text, M.unfinishedWork, labels)).toBeGreaterThanOrEqual(longest + 0.015);
    q.done('a');
    q.done('b');
    text = await scrape();
    expect(sample(text, M.longestRunningProcessor, labels)).toBe(0);
    expect(sample(text, M.unfinishedWork, labels)).toBe(0);
  });

  it('counts retries: failures re-queued and keys added after a delay', async () => {
    const { q, scrape } = instrumented();
    q.addRateLimited('a');
    q.addAfter('b', 1);
    expect(sample(await scrape(), M.queueRetries, labels)).toBe(2);
  });
});
