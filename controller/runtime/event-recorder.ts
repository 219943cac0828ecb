import { HttpMethod, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { requestApi } from './kube-config.js';
import { MicroTime } from './micro-time.js';

/** The object an Event is about. Events live in its namespace, where its readers look for them. */
export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface EventRecord {
  readonly regarding: ObjectReference;
  readonly type: 'Normal' | 'Warning';
  /** Why, in one CamelCase word, as `kubectl describe` lists it. */
  readonly reason: string;
  /** What was done or found about the object; at most 128 characters. */
  readonly action: string;
  /** For a person; cut to the API server's limit. */
  readonly note: string;
}

/** Who records: `reportingController` is what `kubectl describe` shows under From. */
export interface EventSource {
  readonly reportingController: string;
  readonly reportingInstance: string;
}

/** As client-go's event aggregation: an occurrence within this long of the last one counts in its series. */
export const DEDUPE_WINDOW_MS = 10 * 60_000;
/** As client-go's recorder cache: the (object, reason, note) entries remembered at most. */
export const MAX_REMEMBERED_EVENTS = 4096;
/** Event writes in flight at most; any more are dropped, so a slow API server never piles them up. */
export const MAX_EVENT_WRITES_IN_FLIGHT = 16;
const REQUEST_TIMEOUT_MS = 10_000;
/** The API server's limits on an Event (pkg/apis/core/validation/events.go), in bytes. */
const NOTE_LIMIT_BYTES = 1024;
const NAME_LIMIT = 253;
const ELLIPSIS = '…';

/** What one occurrence becomes: a new Event, or the next count of the series of an existing one. */
export type Occurrence =
  | { readonly kind: 'new'; readonly name: string; readonly firstAt: number }
  | {
      readonly kind: 'repeat';
      readonly name: string;
      readonly firstAt: number;
      readonly count: number;
      readonly lastAt: number;
    };

interface Seen {
  readonly name: string;
  readonly firstAt: number;
  lastAt: number;
  count: number;
}

/**
 * Which occurrences are new Events and which repeat one, as client-go's recorder decides it: the
 * same (object uid, reason, note) within DEDUPE_WINDOW_MS of its last occurrence is counted in the
 * first Event's `series` rather than sent again. Counted, not suppressed: a run that goes back to a
 * state it was in says so in `kubectl describe` (`2m (x3 over 9m)`), where a suppressed repeat
 * would leave the first, older occurrence as the whole story. Memory is bounded: an object's
 * entries go when it is forgotten, entries older than the window go when their object is next
 * seen, and past `capacity` entries the least recently seen objects' oldest go first.
 */
export class RecentEvents {
  /** By object uid, least recently seen first; within one, by reason and note, oldest first. */
  private readonly byObject = new Map<string, Map<string, Seen>>();
  private entries = 0;

  constructor(
    private readonly windowMs = DEDUPE_WINDOW_MS,
    private readonly capacity = MAX_REMEMBERED_EVENTS,
  ) {}

  /** How many (object, reason, note) entries are remembered. */
  get size(): number {
    return this.entries;
  }

  /** Notes an occurrence at `now`; `name` is the name a new Event gets. */
  observe(event: EventRecord, now: number, name: string): Occurrence {
    const uid = event.regarding.uid;
    const seen = this.byObject.get(uid) ?? new Map<string, Seen>();
    // Re-inserted: the Map's order is the order objects were last seen in.
    this.byObject.delete(uid);
    this.byObject.set(uid, seen);
    for (const [key, entry] of seen) {
      if (now - entry.lastAt > this.windowMs) {
        seen.delete(key);
        this.entries--;
      }
    }
    const key = `${event.reason}\n${event.note}`;
    const known = seen.get(key);
    if (known) {
      known.count++;
      known.lastAt = now;
      return { kind: 'repeat', name: known.name, firstAt: known.firstAt, count: known.count, lastAt: now };
    }
    seen.set(key, { name, firstAt: now, lastAt: now, count: 1 });
    this.entries++;
    while (this.entries > this.capacity) this.evictOldest();
    return { kind: 'new', name, firstAt: now };
  }

  /** Forgets an object's entries, when it is deleted. */
  forget(uid: string): void {
    this.entries -= this.byObject.get(uid)?.size ?? 0;
    this.byObject.delete(uid);
  }

  private evictOldest(): void {
    const [uid, seen] = this.byObject.entries().next().value ?? [];
    if (uid === undefined || seen === undefined) return;
    const [key] = seen.keys();
    if (key !== undefined) {
      seen.delete(key);
      this.entries--;
    }
    if (seen.size === 0) this.byObject.delete(uid);
  }
}

/**
 * `<object>.<hex nanoseconds>`, as client-go names Events. The names of an object's Events sort in
 * the order they were made, which is the order `kubectl describe` shows them in: it sorts by the
 * legacy lastTimestamp, which an events.k8s.io/v1 Event may not set, and with every key equal its
 * sort keeps the API's order, by name, for the dozen Events an object has. `sequence` tells apart
 * Events made in the same millisecond.
 */
export function eventName(objectName: string, at: number, sequence: number): string {
  const stamp = (BigInt(at) * 1_000_000n + BigInt(sequence % 1_000_000)).toString(16);
  // A cut name must still end on a letter or digit to be a valid DNS subdomain.
  const prefix = objectName.slice(0, NAME_LIMIT - stamp.length - 1).replace(/[-.]+$/, '');
  return `${prefix}.${stamp}`;
}

/** The note within the API server's limit of 1024 bytes, cut on a character boundary. */
export function fitNote(note: string): string {
  if (Buffer.byteLength(note) <= NOTE_LIMIT_BYTES) return note;
  let fitted = '';
  let bytes = Buffer.byteLength(ELLIPSIS);
  for (const character of note) {
    bytes += Buffer.byteLength(character);
    if (bytes > NOTE_LIMIT_BYTES) break;
    fitted += character;
  }
  return fitted + ELLIPSIS;
}

const seriesOf = (occurrence: Occurrence & { kind: 'repeat' }) => ({
  count: occurrence.count,
  lastObservedTime: new MicroTime(occurrence.lastAt),
});

/** The events.k8s.io/v1 Event for an occurrence; a repeat carries its series. */
export function eventObject(event: EventRecord, occurrence: Occurrence, source: EventSource) {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: occurrence.name, namespace: event.regarding.namespace },
    eventTime: new MicroTime(occurrence.firstAt),
    reportingController: source.reportingController,
    reportingInstance: source.reportingInstance,
    action: event.action,
    reason: event.reason,
    note: fitNote(event.note),
    type: event.type,
    regarding: { ...event.regarding },
    ...(occurrence.kind === 'repeat' ? { series: seriesOf(occurrence) } : {}),
  };
}

/**
 * Records events.k8s.io/v1 Events about objects, in the manner of client-go's events recorder.
 * Recording never fails and never waits: the write goes out in the background, at most
 * MAX_EVENT_WRITES_IN_FLIGHT at once (any more are dropped), and a failure is logged, never
 * retried. Events are a story told to people, not state: losing one costs less than slowing the
 * work it tells of, or than adding to the load of an API server that is already failing.
 */
export class EventRecorder {
  private readonly recent = new RecentEvents();
  private readonly maxInFlight: number;
  private inFlight = 0;
  private sequence = 0;
  /** The latest write of each Event still in flight: a repeat waits for it, so its patch finds the Event. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly source: EventSource,
    private readonly log: Logger,
    options: { maxInFlight?: number } = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? MAX_EVENT_WRITES_IN_FLIGHT;
  }

  record(event: EventRecord): void {
    try {
      const now = Date.now();
      const occurrence = this.recent.observe(event, now, eventName(event.regarding.name, now, this.sequence++));
      const about = { regarding: `${event.regarding.namespace}/${event.regarding.name}`, reason: event.reason };
      if (this.inFlight >= this.maxInFlight) {
        this.log.debug(about, 'event dropped: too many event writes in flight');
        return;
      }
      this.inFlight++;
      const write = (this.writes.get(occurrence.name) ?? Promise.resolve())
        .then(() => this.send(event, occurrence))
        .catch((error: unknown) =>
          this.log.warn(
            { ...about, err: error instanceof Error ? error.message : String(error) },
            'event not recorded',
          ),
        )
        .finally(() => {
          this.inFlight--;
          if (this.writes.get(occurrence.name) === write) this.writes.delete(occurrence.name);
        });
      this.writes.set(occurrence.name, write);
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'event not recorded');
    }
  }

  /** Forgets what was recorded about an object, once it is deleted. */
  forget(uid: string): void {
    this.recent.forget(uid);
  }

  /** Resolves once every write in flight has ended. */
  async settled(): Promise<void> {
    while (this.writes.size > 0) await Promise.all(this.writes.values());
  }

  private async send(event: EventRecord, occurrence: Occurrence): Promise<void> {
    const events = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(event.regarding.namespace)}/events`;
    if (occurrence.kind === 'repeat') {
      const path = `${events}/${encodeURIComponent(occurrence.name)}`;
      const patched = await this.request(HttpMethod.PATCH, path, 'application/merge-patch+json', {
        series: seriesOf(occurrence),
      });
      if (patched) return;
      // The first occurrence's Event is gone (dropped, failed, or expired by the API server's
      // event TTL): this one is made with the whole series so far.
    }
    await this.request(HttpMethod.POST, events, 'application/json', eventObject(event, occurrence, this.source));
  }

  /**
   * Sends a write; false if the Event (or, for a new one, its namespace) is not found, which only
   * a repeat acts on. An error for any other failure.
   */
  private async request(method: HttpMethod, path: string, contentType: string, body: unknown): Promise<boolean> {
    const response = await requestApi(this.kc, method, path, {
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.statusCode < 300 || response.statusCode === 404) {
      await response.body.dump();
      return response.statusCode !== 404;
    }
    const text = await response.body.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not a Status: keep the text
    }
    throw new Error(`HTTP ${response.statusCode} from ${method} ${path}: ${message}`);
  }
}
