import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { stripManagedFields } from '../../../controller/runtime/cache-trim.js';
import { makeStreamingInformer, StreamingWatch } from '../../../controller/runtime/streaming-watch.js';

/**
 * The framing of a watch stream, on a local HTTP server that cuts the stream where the test says:
 * the API server sends whole events in most reads, so it cannot show a cut inside an event or
 * inside a character. What the API server itself sends is covered by the cluster tests.
 */
const events = [
  { type: 'ADDED', object: { metadata: { name: 'a' }, data: { note: 'GPU-Knoten für Läufe 🚀' } } },
  { type: 'MODIFIED', object: { metadata: { name: 'a' }, data: { note: 'ß' } } },
  { type: 'DELETED', object: { metadata: { name: 'b' } } },
];
const stream = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');

let server: Server;
const replies: ((res: ServerResponse, req: IncomingMessage) => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => replies.shift()?.(res, req));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function localConfig(): KubeConfig {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the server is not listening');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${address.port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'u' }],
    currentContext: 'local',
  });
  return kc;
}

/** Watches once; resolves with what the callback got and what `done` was called with. */
function watchOnce(reply: (res: ServerResponse, req: IncomingMessage) => void, inactivityMs?: number) {
  replies.push(reply);
  const seen: { type: string; object: unknown }[] = [];
  return new Promise<{ seen: typeof seen; error: unknown }>((resolve) => {
    void new StreamingWatch(localConfig(), inactivityMs).watch(
      '/api/v1/configmaps',
      { resourceVersion: '1' },
      (type, object) => seen.push({ type, object }),
      (error) => resolve({ seen, error }),
    );
  });
}

const pause = () => new Promise((r) => setTimeout(r, 3));

describe('StreamingWatch', () => {
  it('delivers every event whole, wherever the stream is cut, even inside a character', async () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      const { seen, error } = await watchOnce((res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        res.write(stream.subarray(0, cut));
        void pause().then(() => res.end(stream.subarray(cut)));
      });
      expect(error, `cut at byte ${cut}`).toBeNull();
      expect(seen, `cut at byte ${cut}`).toEqual(events);
    }
  });

  it('ends with the HTTP status when the API server refuses the watch', async () => {
    const { seen, error } = await watchOnce((res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' }));
    });
    expect(seen).toEqual([]);
    expect(error).toMatchObject({ statusCode: 410 });
  });

  it('ends as timed out when the stream goes quiet, so that the informer re-watches at once', async () => {
    let open: ServerResponse | undefined;
    const { seen, error } = await watchOnce((res) => {
      open = res;
      res.writeHead(200);
      res.write(stream.subarray(0, stream.indexOf('\n') + 1));
    }, 200);
    open?.destroy();
    expect(seen).toEqual(events.slice(0, 1));
    expect(error).toMatchObject({ name: 'TimeoutError' });
  });

  it('ends the watch with the error when a handler throws, instead of losing it', async () => {
    replies.push((res) => {
      res.writeHead(200);
      res.write(stream);
    });
    const error = await new Promise<unknown>((resolve) => {
      void new StreamingWatch(localConfig()).watch(
        '/api/v1/configmaps',
        {},
        () => {
          throw new Error('handler failed');
        },
        resolve,
      );
    });
    expect(error).toMatchObject({ message: 'handler failed' });
  });

  it('sends the query and the bearer token', async () => {
    let request: IncomingMessage | undefined;
    const { error } = await watchOnce((res, req) => {
      request = req;
      res.writeHead(200);
      res.end();
    });
    expect(error).toBeNull();
    const url = new URL(request?.url ?? '', 'http://localhost');
    expect(url.pathname).toBe('/api/v1/configmaps');
    expect(url.searchParams.get('watch')).toBe('true');
    expect(url.searchParams.get('resourceVersion')).toBe('1');
    expect(url.searchParams.get('allowWatchBookmarks')).toBe('true');
    expect(Number(url.searchParams.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);
    expect(Number(url.searchParams.get('timeoutSeconds'))).toBeLessThanOrEqual(600);
    expect(request?.headers.authorization).toBe('Bearer t');
  });

  it('transforms every object, listed or watched, before the informer caches it or calls a handler', async () => {
    const watched = new Promise<ServerResponse>((resolve) =>
      replies.push((res) => {
        res.writeHead(200);
        res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'b', managedFields: [{}] } } })}\n`);
        resolve(res);
      }),
    );
    const informer = makeStreamingInformer(localConfig(), '/api/v1/configmaps', {
      list: () =>
        Promise.resolve({
          metadata: { resourceVersion: '1' },
          items: [{ metadata: { name: 'a', managedFields: [{}] } }],
        }),
      transform: stripManagedFields,
    });
    const handled: unknown[] = [];
    informer.on('add', (object) => handled.push(structuredClone(object)));
    await informer.start();
    const open = await watched;
    await new Promise<void>((resolve) => {
      const poll = () => (informer.get('b') ? resolve() : setTimeout(poll, 5));
      poll();
    });
    await informer.stop();
    open.end();
    expect(handled).toEqual([{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }]);
    expect(informer.list()).toEqual([{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }]);
  });

  it('lists from the API server item by item, transforming each one as it arrives', async () => {
    const list = JSON.stringify({
      kind: 'ConfigMapList',
      items: [{ metadata: { name: 'a', managedFields: [{}] } }, { metadata: { name: 'b', managedFields: [{}] } }],
      metadata: { resourceVersion: '3' },
    });
    const listed = list.indexOf('{"metadata":{"name":"b"');
    const transformed: string[] = [];
    /** What had been transformed when the server sent the rest of the list. */
    let beforeRest: string[] | undefined;
    replies.push((res, req) => {
      expect(new URL(req.url ?? '', 'http://localhost').searchParams.get('labelSelector')).toBe('x=y');
      res.writeHead(200, { 'content-type': 'application/json' });
      // The first item arrives whole; the rest waits until the client has read it, for 2 s at most.
      res.write(list.slice(0, listed));
      const deadline = Date.now() + 2000;
      const sendRest = () => {
        if (transformed.length === 0 && Date.now() < deadline) return void setTimeout(sendRest, 5);
        beforeRest = [...transformed];
        res.end(list.slice(listed));
      };
      sendRest();
    });
    const watched = new Promise<ServerResponse>((resolve) =>
      replies.push((res) => {
        res.writeHead(200);
        res.flushHeaders();
        resolve(res);
      }),
    );
    const informer = makeStreamingInformer(localConfig(), '/api/v1/configmaps', {
      labelSelector: 'x=y',
      transform: (object: KubernetesObject) => {
        transformed.push(object.metadata?.name ?? '');
        stripManagedFields(object);
      },
    });
    await informer.start();
    const open = await watched;
    await informer.stop();
    open.end();
    expect(beforeRest).toEqual(['a']);
    expect(transformed).toEqual(['a', 'b']);
    expect(informer.list()).toEqual([{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }]);
    expect(informer.latestResourceVersion()).toBe('3');
  });

  it("resumes an informer's next watch from the last bookmark, without listing again", async () => {
    const urls: string[] = [];
    let lists = 0;
    replies.push((res, req) => {
      urls.push(req.url ?? '');
      res.writeHead(200);
      res.end(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '7' } } })}\n`,
      );
    });
    const resumed = new Promise<ServerResponse>((resolve) =>
      replies.push((res, req) => {
        urls.push(req.url ?? '');
        res.writeHead(200);
        res.flushHeaders();
        resolve(res);
      }),
    );
    const informer = makeStreamingInformer(localConfig(), '/api/v1/configmaps', {
      list: () => {
        lists++;
        return Promise.resolve({ metadata: { resourceVersion: '1' }, items: [] });
      },
    });
    await informer.start();
    const open = await resumed;
    await informer.stop();
    open.end();
    expect(lists).toBe(1);
    expect(urls.map((u) => new URL(u, 'http://localhost').searchParams.get('resourceVersion'))).toEqual(['1', '7']);
    expect(informer.list()).toEqual([]);
  });
});
