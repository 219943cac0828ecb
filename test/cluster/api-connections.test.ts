import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { withPooledConnections } from '../../controller/kube-config.js';
import { cluster } from '../support/cluster.js';

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
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
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
    clusters: [{ ...admin.getCurrentCluster()!, server: `https://127.0.0.1:${address.port}` }],
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
