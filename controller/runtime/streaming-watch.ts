import { STATUS_CODES } from 'node:http';
import {
  HttpMethod,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ListPromise,
} from '@kubernetes/client-node';
import { requestApi } from './kube-config.js';
import { ListItemReader } from './list-items.js';

/**
 * The API server sends a bookmark on every watch about once a minute, so a watch silent for
 * longer has lost its connection: it ends as timed out, and its informer re-watches at once.
 */
const INACTIVITY_MS = 90_000;
/**
 * As client-go's reflector asks: the server ends each watch after 5 to 10 minutes, spread so that
 * the informers do not all re-watch at once.
 */
const MIN_WATCH_TIMEOUT_S = 300;

type WatchEvent = { type: string; object: unknown };
/** Trims an object in place before an informer caches it, as controller-runtime's cache transforms do. */
export type Transform<T> = (object: T) => void;
/** The events that carry an object; a bookmark carries only a resourceVersion, an error a Status. */
const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * client-node's Watch, on undici's stream API rather than fetch. Receiving events is most of an
 * informer's work, and under load fetch's web streams and the readline layer on top cost the
 * controller more CPU than parsing the events did. Here the response body's chunks are split on
 * newlines and each event is parsed straight away. The contract is Watch's, so the
 * library's ListWatch drives it unchanged: the callback gets each event, and `done` is called
 * once, with the error if there is one (`statusCode` 410 when the version is too old, a
 * TimeoutError on inactivity). A handler that throws ends the watch with that error. A `transform`
 * sees each object before the callback does.
 */
export class StreamingWatch<T = unknown> extends Watch {
  constructor(
    config: KubeConfig,
    private readonly inactivityMs = INACTIVITY_MS,
    private readonly transform?: Transform<T>,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // Bookmarks keep a quiet informer's resourceVersion current, so that its next watch resumes
    // from there instead of failing as too old (410) and listing everything again.
    const query = new URLSearchParams({
      watch: 'true',
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(Math.round(MIN_WATCH_TIMEOUT_S * (1 + Math.random()))),
    });
    for (const [key, value] of Object.entries(queryParams)) {
      if (value !== undefined) query.set(key, String(value));
    }

    const controller = new AbortController();
    let finished = false;
    const idleTimer = setTimeout(
      () => finish(new DOMException('no watch events within the inactivity timeout', 'TimeoutError')),
      this.inactivityMs,
    ).unref();
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(idleTimer);
      controller.abort();
      done(err);
    };
    const emit = (line: string) => {
      if (line.length === 0) return;
      let event: WatchEvent;
      try {
        event = JSON.parse(line) as WatchEvent;
      } catch {
        return; // as client-node does: a line that is not JSON is skipped
      }
      if (this.transform && OBJECT_EVENTS.has(event.type)) this.transform(event.object as T);
      callback(event.type, event.object, event);
    };

    try {
      const response = await requestApi(this.config, HttpMethod.GET, `${path}?${query}`, {
        signal: controller.signal,
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw Object.assign(new Error(STATUS_CODES[response.statusCode] ?? `HTTP ${response.statusCode}`), {
          statusCode: response.statusCode,
        });
      }
      idleTimer.refresh();
      const body = response.body;
      body.setEncoding('utf8');
      let partial = '';
      body.on('data', (chunk: string) => {
        idleTimer.refresh();
        try {
          let newline = chunk.indexOf('\n');
          if (newline === -1) {
            partial += chunk;
            return;
          }
          let line = partial + chunk.slice(0, newline);
          for (;;) {
            emit(line);
            const start = newline + 1;
            newline = chunk.indexOf('\n', start);
            if (newline === -1) {
              partial = chunk.slice(start);
              return;
            }
            line = chunk.slice(start, newline);
          }
        } catch (err) {
          finish(err);
        }
      });
      body.on('error', finish);
      body.on('end', () => finish(null));
      body.on('close', () => finish(null));
    } catch (err) {
      finish(err);
    }
    return controller;
  }
}

/**
 * client-node's makeInformer, over a StreamingWatch, with an optional field selector, and an
 * optional transform applied to every object, listed or watched, before it is cached. Listed
 * objects are transformed one by one as the list arrives (list-items.ts), so that a trimmed cache
 * never holds the whole collection at full size, not even while it lists.
 */
export function makeStreamingInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  options: { labelSelector?: string; fieldSelector?: string; transform?: Transform<T>; list?: ListPromise<T> } = {},
): ListWatch<T> {
  const { labelSelector, fieldSelector, transform, list } = options;
  const listTransformed: ListPromise<T> = list
    ? async () => {
        const listed = await list();
        if (transform) listed.items.forEach(transform);
        return listed;
      }
    : () => listByPath<T>(kc, path, { labelSelector, fieldSelector }, transform);
  const watch = new StreamingWatch(kc, INACTIVITY_MS, transform);
  return new ListWatch<T>(path, watch, listTransformed, false, labelSelector, fieldSelector);
}

/**
 * Lists a collection as the API server sends it, on the same transport as the watches: the objects
 * are cached as watch events deliver them, plain JSON, whatever the resource. Each item is parsed,
 * and handed to `each`, as soon as it has arrived.
 */
export async function listByPath<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
  each?: (item: T) => void,
): Promise<KubernetesListObject<T>> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(selectors)) if (value) query.set(key, value);
  const response = await requestApi(kc, HttpMethod.GET, `${path}${query.size > 0 ? `?${query}` : ''}`, {
    headers: { accept: 'application/json' },
  });
  if (response.statusCode >= 300) {
    const text = await response.body.text();
    throw new Error(`HTTP ${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ''} from GET ${path}: ${text}`);
  }
  const reader = new ListItemReader<T>(each);
  response.body.setEncoding('utf8');
  for await (const chunk of response.body) reader.write(chunk as string);
  return reader.end();
}
