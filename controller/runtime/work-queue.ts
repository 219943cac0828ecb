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

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 60_000,
  ) {}

  get depth(): number {
    return this.urgent.length + this.queue.length;
  }

  add(key: string, urgent = false): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      if (urgent && !this.processing.has(key)) this.promote(key);
      return;
    }
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      (urgent ? this.urgent : this.queue).push(key);
    }
  }

  /** Moves a waiting key to the urgent line. */
  private promote(key: string): void {
    const at = this.queue.indexOf(key);
    if (at < 0) return;
    this.queue.splice(at, 1);
    this.urgent.push(key);
  }

  /** Adds the key after a delay; of several delays pending for one key, the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
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
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    for (const waiter of this.waiters) waiter(undefined);
    this.waiters = [];
  }
}
