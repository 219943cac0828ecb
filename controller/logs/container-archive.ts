import type { V1ContainerStatus } from '@kubernetes/client-node';
import {
  chunkKey,
  chunkOf,
  containerLogPrefix,
  resumeAfter,
  ResumeFilter,
  sinceTimeOf,
  START,
  trailingAt,
  type ContainerLog,
  type ResumePoint,
} from './log-chunks.js';
import type { LogRead } from './container-log-reader.js';
import type { LogStore } from './log-store.js';

/** A chunk is written once it holds this much, so that a chatty run makes few objects. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * What every archive holds in memory at once, read and not yet written: past it, an archive writes
 * its chunk at once, whatever its size. Without it, 200 chatty runs would each hold up to a chunk,
 * 200 MiB, in a controller whose heap is 128 MiB on `local`.
 */
export class PendingBudget {
  bytes = 0;
  constructor(readonly limit: number) {}
  get exceeded(): boolean {
    return this.bytes > this.limit;
  }
}

/** 8 MiB of characters, which V8 may keep as twice that. */
export const PENDING_LIMIT_BYTES = 8 * 1024 * 1024;
/** ... or once its first line has waited this long, so that a quiet run's lines reach the archive soon. */
export const CHUNK_WAIT_MS = 5_000;

/**
 * The next read a container's archive needs, from the container's status: the instance the kubelet
 * keeps before the latest (`previous`), the latest while it runs (`follow`) or once it has ended
 * (`once`), or nothing. Instances are numbered by the restart count the kubelet gives the latest:
 * it is the count the runtime stored on that container when it made it, so a container waiting to
 * be restarted still has its last instance's number.
 */
export type NextRead =
  | { readonly kind: 'read'; readonly attempt: number; readonly previous: boolean; readonly follow: boolean }
  | { readonly kind: 'caught-up' }
  /** Instances the kubelet no longer keeps, which the archive never got: reported, then skipped. */
  | { readonly kind: 'lost'; readonly attempts: readonly number[]; readonly next: number };

export function nextRead(status: V1ContainerStatus | undefined, attempt: number, attemptDone: boolean): NextRead {
  const state = status?.state;
  const started = state?.running !== undefined || state?.terminated !== undefined || status?.lastState?.terminated;
  if (!status || !started) return { kind: 'caught-up' };
  const latest = status.restartCount;
  const next = attemptDone ? attempt + 1 : attempt;
  if (next > latest) return { kind: 'caught-up' };
  if (next < latest - 1) {
    const lost = Array.from({ length: latest - 1 - next }, (_, i) => next + i);
    return { kind: 'lost', attempts: lost, next: latest - 1 };
  }
  if (next === latest - 1) return { kind: 'read', attempt: next, previous: true, follow: false };
  return { kind: 'read', attempt: next, previous: false, follow: state?.running !== undefined };
}

/**
 * One container's archive: where it stands (the attempt, the resume point) and the chunk being
 * filled. Lines are kept in order and written as chunks one at a time, so that the chunk keys and
 * the resume point always agree with what the store holds.
 */
export class ContainerArchive {
  attempt = 0;
  /** Whether `attempt` is archived to its end. */
  attemptDone = false;
  private point: ResumePoint = START;
  private filter = new ResumeFilter(START);
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingSince = 0;
  /** Lines written to the store by this archive, for the metrics. */
  written = 0;
  /** The writes in order: a flush by size and one by time never take the same chunk number. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LogStore,
    readonly log: ContainerLog,
    private readonly budget = new PendingBudget(PENDING_LIMIT_BYTES),
  ) {}

  /**
   * Picks up where the store's chunks end: the highest attempt with a chunk, from its last line. An
   * archiver that restarts reads the attempt again from there and writes only what is new.
   */
  async load(): Promise<void> {
    const chunks = (await this.store.list(containerLogPrefix(this.log)))
      .map((key) => ({ key, ...chunkOf(key) }))
      .filter((c): c is { key: string; attempt: number; seq: number } => c.attempt !== undefined);
    const last = chunks.at(-1);
    if (!last) return;
    this.attempt = last.attempt;
    const text = await this.store.get(last.key);
    let point = resumeAfter(text, last.seq);
    // The lines at the last time may begin in earlier chunks of the attempt: count those too.
    const earlier = chunks.filter((c) => c.attempt === last.attempt && c.seq < last.seq).reverse();
    let spansBack = point.lastTime !== undefined && trailingAt(text, point.lastTime).all;
    for (const chunk of earlier) {
      if (!spansBack || point.lastTime === undefined) break;
      const before = trailingAt(await this.store.get(chunk.key), point.lastTime);
      point = { ...point, linesAtLastTime: point.linesAtLastTime + before.count };
      spansBack = before.all;
    }
    this.point = point;
  }

  /**
   * The read of `attempt` from where its archive ends, once every write under way has ended: a
   * read that fails while the flush timer's write is still out would otherwise start again from
   * before that write's lines, and write them twice.
   */
  async readFor(read: Omit<LogRead, 'sinceTime'>): Promise<LogRead> {
    await this.writing;
    this.filter = new ResumeFilter(this.point);
    return { ...read, sinceTime: sinceTimeOf(this.point) };
  }

  /** Moves to an attempt from its start: the next instance, or one past those the kubelet lost. */
  startAttempt(attempt: number): void {
    this.attempt = attempt;
    this.attemptDone = false;
    this.point = START;
  }

  /** Takes lines as read; writes a chunk when one is full. */
  async add(lines: string[]): Promise<void> {
    for (const line of lines) {
      if (!this.filter.keep(line)) continue;
      if (this.pending.length === 0) this.pendingSince = Date.now();
      this.pending.push(line);
      this.pendingBytes += line.length + 1;
      this.budget.bytes += line.length + 1;
      if (this.pendingBytes >= CHUNK_BYTES || this.budget.exceeded) await this.flush();
    }
  }

  /** Whether the chunk being filled has waited long enough to be written. */
  due(now: number): boolean {
    return this.pending.length > 0 && now - this.pendingSince >= CHUNK_WAIT_MS;
  }

  /** Writes the chunk being filled, if it holds anything, after any write already under way. */
  flush(): Promise<void> {
    const write = this.writing.then(() => this.write());
    // A failed write fails its caller; the next one starts afresh.
    this.writing = write.catch(() => undefined);
    return write;
  }

  private async write(): Promise<void> {
    if (this.pending.length === 0) return;
    // Taken before the put: lines that arrive while it is under way go to the next chunk.
    const taken = this.pending;
    const takenBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.budget.bytes -= takenBytes;
    const text = taken.join('\n') + '\n';
    try {
      await this.store.put(chunkKey(this.log, this.attempt, this.point.seq), text);
    } catch (error) {
      this.pending = [...taken, ...this.pending];
      this.pendingBytes += takenBytes;
      this.budget.bytes += takenBytes;
      throw error;
    }
    this.point = resumeAfter(text, this.point.seq, this.point);
    this.written += taken.length;
  }

  /** Drops the lines read but not yet written: the next read fetches them again from the store's end. */
  discardPending(): void {
    this.budget.bytes -= this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
