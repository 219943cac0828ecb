import { runLogsPrefix } from '../../model/store-layout.js';

/**
 * How a container's log is laid out in the archive, and where to pick it up again. The store has no
 * append, so a log is a series of chunk objects:
 *
 *   <prefix>/logs/<team>/<run-uid>/<pod>/<container>/<attempt>-<seq>.log
 *
 * `attempt` is the container's restart count when it printed the lines (0 for its first run), `seq`
 * counts the attempt's chunks from 0. Both are zero-padded, so that listing the keys lists the log
 * in order. Each line is kept as the kubelet gives it with `timestamps=true`: an RFC 3339 time with
 * nanoseconds, a space, the line. The times are what lets an archiver that restarts resume where the
 * last chunk ends, with no line lost or written twice.
 */

const ATTEMPT_DIGITS = 4;
const SEQ_DIGITS = 6;

/** Whose log a chunk holds. */
export interface ContainerLog {
  readonly prefix: string;
  readonly team: string;
  readonly runUid: string;
  readonly pod: string;
  readonly container: string;
}

const pad = (n: number, digits: number) => String(n).padStart(digits, '0');

/** The key prefix of one container's chunks, every attempt. */
export const containerLogPrefix = (log: ContainerLog): string =>
  `${runLogsPrefix(log.prefix, log.team, log.runUid)}${log.pod}/${log.container}/`;

/** The key of one chunk. */
export const chunkKey = (log: ContainerLog, attempt: number, seq: number): string =>
  `${containerLogPrefix(log)}${pad(attempt, ATTEMPT_DIGITS)}-${pad(seq, SEQ_DIGITS)}.log`;

/** A chunk's attempt and seq, read back from its key; undefined for a key that is no chunk. */
export function chunkOf(key: string): { attempt: number; seq: number } | undefined {
  const match = /\/(\d+)-(\d+)\.log$/.exec(key);
  return match ? { attempt: Number(match[1]), seq: Number(match[2]) } : undefined;
}

/**
 * The time the kubelet stamped a line with (`2026-12-07T10:00:00.123456789Z`), as a string that
 * sorts as the time does: the kubelet always writes nine fraction digits and `Z`. Undefined for a
 * line that has none.
 */
export function lineTime(line: string): string | undefined {
  const space = line.indexOf(' ');
  const stamp = space < 0 ? line : line.slice(0, space);
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(stamp) ? stamp : undefined;
}

/** Where an attempt's archive ends: the time of its last line, and how many lines at the end carry it. */
export interface ResumePoint {
  /** The chunk to write next. */
  readonly seq: number;
  readonly lastTime: string | undefined;
  /** The lines at the end of the archive that carry `lastTime`: as many to skip again at that time. */
  readonly linesAtLastTime: number;
}

export const START: ResumePoint = { seq: 0, lastTime: undefined, linesAtLastTime: 0 };

/** The resume point after a chunk of lines (its text, as archived), written as chunk `seq`. */
export function resumeAfter(text: string, seq: number, before: ResumePoint = START): ResumePoint {
  return resumeAfterLines(
    text.split('\n').filter((l) => l.length > 0),
    seq,
    before,
  );
}

/** The resume point after lines (as archived, each stamped), counted as chunk `seq`. */
export function resumeAfterLines(lines: readonly string[], seq: number, before: ResumePoint = START): ResumePoint {
  let lastTime = before.lastTime;
  let linesAtLastTime = before.linesAtLastTime;
  for (const line of lines) {
    const time = lineTime(line);
    if (time === undefined) continue;
    if (time === lastTime) linesAtLastTime += 1;
    else {
      lastTime = time;
      linesAtLastTime = 1;
    }
  }
  return { seq: seq + 1, lastTime, linesAtLastTime };
}

/**
 * How many lines at the end of a chunk carry `time`, and whether every line of it does: lines that
 * share one time (a burst the runtime stamped within its clock's resolution) may span chunks, and
 * a resume point must count them all, or a resumed read writes the earlier ones again.
 */
export function trailingAt(text: string, time: string): { count: number; all: boolean } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  let count = 0;
  while (count < lines.length && lineTime(lines[lines.length - 1 - count] ?? '') === time) count += 1;
  return { count, all: count === lines.length };
}

/**
 * Drops the lines of a re-read that the archive already has. The kubelet is asked for lines since
 * the last archived line's second (its `sinceTime` has whole seconds), in the order of its log file:
 * every line before the last archived time is already archived, and so are the first
 * `linesAtLastTime` lines at that time.
 */
export class ResumeFilter {
  private toSkipAtLastTime: number;
  private passed: boolean;

  constructor(private readonly from: ResumePoint) {
    this.toSkipAtLastTime = from.linesAtLastTime;
    this.passed = from.lastTime === undefined;
  }

  /** Whether a line read again is new to the archive. */
  keep(line: string): boolean {
    if (this.passed) return true;
    const time = lineTime(line);
    const last = this.from.lastTime ?? '';
    if (time === undefined || time < last) return false;
    if (time === last && this.toSkipAtLastTime > 0) {
      this.toSkipAtLastTime -= 1;
      return false;
    }
    this.passed = true;
    return true;
  }
}

/** The `sinceTime` to re-read an attempt from: the last archived line's whole second. */
export function sinceTimeOf(point: ResumePoint): string | undefined {
  return point.lastTime ? `${point.lastTime.slice(0, 19)}Z` : undefined;
}

/**
 * What a reader has handed on of one container instance, while it reads that instance from one
 * source after another: the archive, then the kubelet, then the archive again once the pod is gone.
 * Each source is read from where the last one left off (`sinceTime`) and its lines pass a filter
 * from that point, so that a line both sources hold is given once, and none is skipped.
 */
export class LogCursor {
  private point: ResumePoint = START;
  private filter = new ResumeFilter(START);

  /** The kubelet's `sinceTime` for a read from the point reached. */
  get sinceTime(): string | undefined {
    return sinceTimeOf(this.point);
  }

  /** The next lines come from another source, which may repeat some already handed on. */
  switchSource(): void {
    this.filter = new ResumeFilter(this.point);
  }

  /** The lines of a read that are new, in order. */
  take(lines: readonly string[]): string[] {
    const fresh = lines.filter((line) => line.length > 0 && this.filter.keep(line));
    if (fresh.length > 0) this.point = resumeAfterLines(fresh, this.point.seq, this.point);
    return fresh;
  }
}
