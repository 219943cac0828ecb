import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  DEDUPE_WINDOW_MS,
  EventRecorder,
  RecentEvents,
  eventName,
  eventObject,
  fitNote,
  type EventRecord,
} from '../../../controller/runtime/event-recorder.js';

const MINUTE = 60_000;
const source = { reportingController: 'example.dev/controller', reportingInstance: 'replica-a' };

function event(uid: string, reason = 'Running', note = 'running on cpu-0'): EventRecord {
  return {
    regarding: { apiVersion: 'example.dev/v1', kind: 'Thing', name: `thing-${uid}`, namespace: 'team', uid },
    type: 'Normal',
    reason,
    action: 'running',
    note,
  };
}

describe('RecentEvents', () => {
  it('counts the same object, reason and note within the window in the first Event’s series', () => {
    const recent = new RecentEvents();
    expect(recent.observe(event('a'), 0, 'first')).toEqual({ kind: 'new', name: 'first', firstAt: 0 });
    expect(recent.observe(event('a'), MINUTE, 'second')).toEqual({
      kind: 'repeat',
      name: 'first',
      firstAt: 0,
      count: 2,
      lastAt: MINUTE,
    });
    expect(recent.observe(event('a'), 2 * MINUTE, 'third')).toMatchObject({ kind: 'repeat', name: 'first', count: 3 });
    expect(recent.size).toBe(1);
  });

  it('makes a new Event for another object, another reason or another note', () => {
    const recent = new RecentEvents();
    recent.observe(event('a'), 0, 'a');
    expect(recent.observe(event('b'), 1, 'b').kind).toBe('new');
    expect(recent.observe(event('a', 'Completed'), 2, 'c').kind).toBe('new');
    expect(recent.observe(event('a', 'Running', 'running on cpu-1'), 3, 'd').kind).toBe('new');
    expect(recent.size).toBe(4);
  });

  it('measures the window from the last occurrence, and starts afresh after it', () => {
    const recent = new RecentEvents();
    recent.observe(event('a'), 0, 'first');
    // Each repeat comes within the window of the one before: one series over 18 minutes.
    expect(recent.observe(event('a'), DEDUPE_WINDOW_MS - 1, 'x')).toMatchObject({ kind: 'repeat', count: 2 });
    expect(recent.observe(event('a'), 2 * DEDUPE_WINDOW_MS - 2, 'y')).toMatchObject({ kind: 'repeat', count: 3 });
    expect(recent.observe(event('a'), 3 * DEDUPE_WINDOW_MS, 'later')).toEqual({
      kind: 'new',
      name: 'later',
      firstAt: 3 * DEDUPE_WINDOW_MS,
    });
  });

  it('drops an object’s entries older than the window when the object is seen again', () => {
    const recent = new RecentEvents();
    recent.observe(event('a', 'Queued'), 0, 'q');
    recent.observe(event('a', 'Scheduled'), 1, 's');
    expect(recent.size).toBe(2);
    recent.observe(event('a', 'Running'), DEDUPE_WINDOW_MS + 2, 'r');
    expect(recent.size).toBe(1);
  });

  it('forgets a deleted object’s entries', () => {
    const recent = new RecentEvents();
    recent.observe(event('a', 'Queued'), 0, 'q');
    recent.observe(event('a', 'Running'), 1, 'r');
    recent.observe(event('b'), 2, 'b');
    recent.forget('a');
    expect(recent.size).toBe(1);
    expect(recent.observe(event('a', 'Running'), 3, 'again').kind).toBe('new');
  });

  it('keeps at most its capacity, forgetting the least recently seen objects first', () => {
    const recent = new RecentEvents(DEDUPE_WINDOW_MS, 3);
    recent.observe(event('a'), 0, 'a');
    recent.observe(event('b'), 1, 'b');
    recent.observe(event('c'), 2, 'c');
    // a is seen again: b is now the least recently seen.
    expect(recent.observe(event('a'), 3, 'a2').kind).toBe('repeat');
    recent.observe(event('d'), 4, 'd');
    expect(recent.size).toBe(3);
    expect(recent.observe(event('a'), 5, 'a3').kind).toBe('repeat');
    expect(recent.observe(event('b'), 6, 'b2').kind).toBe('new');
    expect(recent.size).toBe(3);
  });

  it('stays within its capacity when one object has more entries than it', () => {
    const recent = new RecentEvents(DEDUPE_WINDOW_MS, 2);
    for (let i = 0; i < 5; i++) recent.observe(event('a', `Reason${i}`), i, `e${i}`);
    expect(recent.size).toBe(2);
    // The newest stay, the oldest go.
    expect(recent.observe(event('a', 'Reason4'), 10, 'x').kind).toBe('repeat');
    expect(recent.observe(event('a', 'Reason0'), 11, 'y').kind).toBe('new');
  });
});

describe('eventName', () => {
  const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

  it('names an object’s Events so that they sort in the order they were made', () => {
    const at = Date.parse('2025-06-01T10:00:00Z');
    const names = [eventName('train', at, 41), eventName('train', at, 42), eventName('train', at + 1, 0)];
    expect(names[0]).toMatch(/^train\.[0-9a-f]{16}$/);
    expect(new Set(names).size).toBe(3);
    expect([...names].sort()).toEqual(names);
    expect(eventName('train', Date.parse('2025-06-01T10:00:01Z'), 0) > eventName('train', at + 999, 999_999)).toBe(
      true,
    );
  });

  it('keeps a long name a valid DNS subdomain of at most 253 characters', () => {
    const long = `${'a'.repeat(235)}-${'b'.repeat(40)}`;
    const name = eventName(long, Date.now(), 0);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(dnsSubdomain);
  });
});

describe('fitNote', () => {
  it('leaves a note within 1024 bytes as it is', () => {
    expect(fitNote('waiting for quota')).toBe('waiting for quota');
    expect(fitNote('x'.repeat(1024))).toBe('x'.repeat(1024));
  });

  it('cuts a longer note to 1024 bytes on a character boundary, and says so', () => {
    const note = fitNote('é'.repeat(1000));
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note.endsWith('é…')).toBe(true);
  });
});

describe('eventObject', () => {
  const at = Date.parse('2025-06-01T10:00:00.123Z');

  it('writes the event time with the six fractional digits of a MicroTime', () => {
    const json = JSON.parse(JSON.stringify(eventObject(event('a'), { kind: 'new', name: 'n', firstAt: at }, source)));
    expect(json).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'n', namespace: 'team' },
      eventTime: '2025-06-01T10:00:00.123000Z',
      ...source,
      regarding: event('a').regarding,
    });
    expect(json.series).toBeUndefined();
  });

  it('carries the series of a repeat', () => {
    const repeat = { kind: 'repeat', name: 'n', firstAt: at, count: 3, lastAt: at + 1000 } as const;
    const json = JSON.parse(JSON.stringify(eventObject(event('a'), repeat, source)));
    expect(json.eventTime).toBe('2025-06-01T10:00:00.123000Z');
    expect(json.series).toEqual({ count: 3, lastObservedTime: '2025-06-01T10:00:01.123000Z' });
  });
});

/** A server that accepts connections and never answers, until told to cut them. */
let blackHole: Server;
const sockets = new Set<Socket>();
let received = '';
let cutting = false;

beforeAll(async () => {
  blackHole = createServer((socket) => {
    if (cutting) return socket.destroy();
    sockets.add(socket);
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  cutting = true;
  sockets.forEach((s) => s.destroy());
  await new Promise<void>((resolve) => blackHole.close(() => resolve()));
});

function recorderAgainstBlackHole(maxInFlight: number) {
  const address = blackHole.address();
  if (!address || typeof address === 'string') throw new Error('the server is not listening');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'hole', server: `http://127.0.0.1:${address.port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'hole', cluster: 'hole', user: 'u' }],
    currentContext: 'hole',
  });
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  const recorder = new EventRecorder(kc, source, pino({ level: 'debug' }, sink), { maxInFlight });
  return { recorder, lines };
}

const requests = (method: string) =>
  received.split(`${method} /apis/events.k8s.io/v1/namespaces/team/events`).length - 1;

async function until(what: string, check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('EventRecorder', () => {
  it('never waits on the API server, and drops what goes beyond its writes in flight', async () => {
    const { recorder, lines } = recorderAgainstBlackHole(2);
    for (const uid of ['a', 'b', 'c', 'd', 'e']) recorder.record(event(uid));
    // record() returned at once, although no write has been answered.
    await until('two writes to arrive', () => requests('POST') === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(requests('POST')).toBe(2);
    expect(lines.filter((l) => l.msg === 'event dropped: too many event writes in flight')).toHaveLength(3);

    // A failed write is logged once, not retried; its slot is free again.
    cutting = true;
    sockets.forEach((s) => s.destroy());
    await recorder.settled();
    const failures = lines.filter((l) => l.msg === 'event not recorded');
    expect(failures).toHaveLength(2);
    expect(failures.every((l) => l.level === pino.levels.values['warn'])).toBe(true);
    cutting = false;
    recorder.record(event('f'));
    await until('the next write to arrive', () => requests('POST') === 3);
    cutting = true;
    sockets.forEach((s) => s.destroy());
    await recorder.settled();
    cutting = false;
  });

  it('sends a repeat only once the write of its first occurrence has ended', async () => {
    received = '';
    const { recorder } = recorderAgainstBlackHole(4);
    recorder.record(event('g'));
    recorder.record(event('g'));
    await until('the first write to arrive', () => requests('POST') === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(requests('PATCH')).toBe(0);
    // The create fails: then, and only then, the repeat's patch goes out.
    sockets.forEach((s) => s.destroy());
    await until('the repeat to arrive', () => requests('PATCH') === 1);
    cutting = true;
    sockets.forEach((s) => s.destroy());
    await recorder.settled();
    cutting = false;
  });
});
