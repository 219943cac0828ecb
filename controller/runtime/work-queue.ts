import { performance } from 'node:perf_hooks';

/**
 * What a WorkQueue reports, as client-go's workqueue metrics provider hears it: the queue knows
 * no metric names, the caller maps these onto its own.
 */
export interface WorkQueueMetrics {
  /** Keys waiting for a worker, after each change. */
  depth(keys: number): void;
  /** A key newly added: not one already waiting. */
  added(): void;
  /** Seconds a key waited between its add and a worker taking it. */
  waited(seconds: number): void;
  /** Seconds a worker held a key, from get to done. */
  worked(seconds: number): void;
  /**
   * A key to be added after a delay: a failure's retry, or a requeue after some time, both of
   * which client-go counts as retries.
   */
  retried(): void;
  /**
   * Called once with a reader of the work in progress, for the caller to read when it needs:
   * seconds held so far by every worker together, and by the longest holder.
   */
  inProgress(read: () => { totalSeconds: number; longestSeconds: number }): void;
}

export interface WorkQueueOptions {
  /** The first retry's delay; each further failure of the key doubles it. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly metrics?: WorkQueueMetrics;
}

/** Node's timers fire at once, not later, past this: about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A rate-limited work queue in the manner of client-go's: a key is queued at most once, is never
 * processed by two workers at once (a change during processing re-queues it afterwards), and
 * failures back off exponentially per key. Urgent keys (a new run, which has no workload yet) are
 * served before the rest, as in controller-runtime's priority queue: status follow-ups of earlier
 * runs then never delay the first Job of a new one.
 */
export class WorkQueue {
  private readonly urgent: string[] = [];
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  /** When each waiting key was added, and when each key being processed was handed out. */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly metrics: WorkQueueMetrics | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.metrics = options.metrics;
    this.metrics?.inProgress(() => {
      const now = performance.now();
      let totalSeconds = 0;
      let longestSeconds = 0;
      for (const started of this.startedAt.values()) {
        const seconds = (now - started) / 1000;
        totalSeconds += seconds;
        longestSeconds = Math.max(longestSeconds, seconds);
      }
      return { totalSeconds, longestSeconds };
    });
  }

  get depth(): number {
    return this.urgent.length + this.queue.length;
  }

  add(key: string, urgent = false): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      if (urgent && !this.processing.has(key)) this.promote(key);
      return;
    }
    this.metrics?.added();
    this.addedAt.set(key, performance.now());
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key, urgent);
  }

  /** Hands a dirty key to a waiting worker, or queues it. */
  private enqueue(key: string, urgent: boolean): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.start(key);
      waiter(key);
    } else {
      (urgent ? this.urgent : this.queue).push(key);
      this.metrics?.depth(this.depth);
    }
  }

  /** A worker takes the key. */
  private start(key: string): void {
    const now = performance.now();
    this.processing.add(key);
    this.metrics?.waited((now - (this.addedAt.get(key) ?? now)) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
  }

  /** Moves a waiting key to the urgent line. */
  private promote(key: string): void {
    const at = this.queue.indexOf(key);
    if (at < 0) return;
    this.queue.splice(at, 1);
    this.urgent.push(key);
  }

  /**
   * Adds the key after a delay; of several delays pending for one key, the earliest wins. A delay
   * longer than a timer can wait adds the key after the longest one: its reconciler, finding
   * nothing to do yet, asks again for the rest.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    this.metrics?.retried();
    const waitMs = Math.min(delayMs, MAX_TIMER_MS);
    const at = Date.now() + waitMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, waitMs);
    this.delayed.set(key, { at, timer });
  }

  /** Re-queues after a failure, waiting longer each time the same key fails. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.urgent.shift() ?? this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.start(key);
      this.metrics?.depth(this.depth);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics?.worked((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    this.processing.delete(key);
    // Added again while processed: counted as an add then, and waiting since then.
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key, false);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters = [];
  }
}
