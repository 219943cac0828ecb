import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, KubeConfig, type V1ConfigMap, type V1Service } from '@kubernetes/client-node';
import { ApiWriter } from '../../controller/runtime/api-writer.js';
import { runsPath } from '../../controller/api/run.js';
import { withPooledConnections } from '../../controller/runtime/kube-config.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { makeStreamingInformer } from '../../controller/runtime/streaming-watch.js';
import { cluster, eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { CHILD_PLURALS } from '../../controller/api/children.js';

/**
 * A TCP relay in front of the API server that counts the connections clients open; TLS passes
 * through untouched, so the clients verify the real serving certificate.
 */
let relay: Server;
let connections = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  const upstream = new URL(cluster().server);
  relay = createServer((client) => {
    connections += 1;
    const server = createConnection(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(server);
    client.pipe(server).pipe(client);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  });
  // On the API server's own address, which its certificate names.
  await new Promise<void>((resolve) => relay.listen(0, upstream.hostname, resolve));
});

afterAll(async () => {
  sockets.forEach((socket) => socket.destroy());
  await new Promise<void>((resolve) => relay.close(() => resolve()));
});

/** The admin identity, addressed through the relay. */
function throughRelay(): KubeConfig {
  const address = relay.address();
  if (!address || typeof address === 'string') throw new Error('the relay is not listening');
  const admin = new KubeConfig();
  admin.loadFromFile(cluster().kubeconfigs['admin'] ?? '');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...admin.getCurrentCluster()!, server: `https://${address.address}:${address.port}` }],
    users: admin.users,
    contexts: admin.contexts,
    currentContext: admin.currentContext,
  });
  return kc;
}

describe("the controller's API client", () => {
  it('sends every request over one pooled connection instead of a TLS handshake each', async () => {
    const core = withPooledConnections(throughRelay()).makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 20; i++) await core.readNamespace({ name: 'plinth' });
    await Promise.all(Array.from({ length: 10 }, () => core.readNamespace({ name: 'plinth' })));
    // HTTP/2, negotiated on the first request, then carries the concurrent ones too.
    // Without the pool: 30 connections, one per request.
    expect(connections).toBe(1);
  });
});

describe("the controller's watches", () => {
  it('keep a cache of large, non-ASCII objects exactly as the API server holds them', async () => {
    const kc = kubeConfigAs('admin');
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = 'default';
    const labelSelector = 'plinth.dev/test=streaming-watch';
    const informer = makeStreamingInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, {
      labelSelector,
    });
    await informer.start();
    try {
      // About 250 KB: the API server sends it in many reads, and cuts fall inside characters.
      const note = 'Läufe auf GPU-Knoten 🚀 '.repeat(10_000);
      const metadata = { name: 'streaming-watch', labels: { 'plinth.dev/test': 'streaming-watch' } };
      await core.createNamespacedConfigMap({ namespace, body: { metadata, data: { note } } });
      await eventually('the informer to hold the new object', async () =>
        informer.get(metadata.name, namespace)?.data?.['note'] === note ? true : undefined,
      );
      await core.replaceNamespacedConfigMap({
        name: metadata.name,
        namespace,
        body: { metadata, data: { note: `${note}ß` } },
      });
      await eventually('the informer to hold the update', async () =>
        informer.get(metadata.name, namespace)?.data?.['note'] === `${note}ß` ? true : undefined,
      );
      await core.deleteNamespacedConfigMap({ name: metadata.name, namespace });
      await eventually('the informer to drop the deleted object', async () =>
        informer.get(metadata.name, namespace) ? undefined : true,
      );
    } finally {
      await informer.stop();
    }
  });
});

describe("the controller's writes", () => {
  const service = (port: number): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api-writer', namespace: 'default' },
    spec: { selector: { app: 'api-writer' }, ports: [{ port }] },
  });

  it('apply with the field manager, change nothing when applied again, name a refused field, and delete', async () => {
    const kc = kubeConfigAs('admin');
    const core = kc.makeApiClient(CoreV1Api);
    const writer = new ApiWriter(kc, CONTROLLER_NAME, CHILD_PLURALS);
    try {
      await writer.apply(service(8080));
      const first = await core.readNamespacedService({ name: 'api-writer', namespace: 'default' });
      expect(first.metadata?.managedFields).toContainEqual(
        expect.objectContaining({ manager: CONTROLLER_NAME, operation: 'Apply' }),
      );
      await writer.apply(service(8080));
      const again = await core.readNamespacedService({ name: 'api-writer', namespace: 'default' });
      expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);

      const refused = await writer.apply(service(70_000)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(ApiException);
      expect((refused as ApiException<unknown>).code).toBe(422);
      expect((refused as Error).message).toContain('spec.ports[0].port');

      // In the foreground: the object stays, marked, until the garbage collector has done its part.
      await writer.delete(service(8080));
      await eventually('the deleted Service to be gone', () =>
        core.readNamespacedService({ name: 'api-writer', namespace: 'default' }).then(
          () => undefined,
          (error: unknown) => (error instanceof ApiException && error.code === 404 ? true : undefined),
        ),
      );
      // Deleting what is already gone is no error: a stop may be reconciled twice.
      await writer.delete(service(8080));
    } finally {
      await core.deleteNamespacedService({ name: 'api-writer', namespace: 'default' }).catch(() => undefined);
    }
  });

  it('report a status patch of a missing run as not found, with its code', async () => {
    const writer = new ApiWriter(kubeConfigAs('admin'), CONTROLLER_NAME, CHILD_PLURALS);
    const missing = await writer.patchStatus(runsPath('default', 'no-such-run'), { phase: 'running' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((missing as ApiException<unknown>).code).toBe(404);
  });
});
