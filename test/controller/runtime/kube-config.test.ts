import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, HttpMethod, KubeConfig } from '@kubernetes/client-node';
import { requestApi, withPooledConnections } from '../../../controller/runtime/kube-config.js';

/** A local API server stand-in that records each request's headers and answers an empty list. */
let server: Server;
let dir: string;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-kube-config-'));
  server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** A kubeconfig whose cluster CA is a file, as in-cluster configs have it; the stand-in speaks plain HTTP. */
async function configWithCaFile(): Promise<{ kc: KubeConfig; caFile: string }> {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the server is not listening');
  const caFile = join(dir, `ca-${seen.length}.crt`);
  await writeFile(caFile, 'a CA bundle');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${address.port}`, caFile, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't', impersonateUser: 'someone' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'u' }],
    currentContext: 'local',
  });
  return { kc, caFile };
}

describe('withPooledConnections', () => {
  it('reads the TLS files once, not for every request, and still sends the credentials each time', async () => {
    const { kc, caFile } = await configWithCaFile();
    withPooledConnections(kc);
    const before = seen.length;
    await (await requestApi(kc, HttpMethod.GET, '/api/v1/namespaces')).body.dump();
    // Were the file read again, the next requests would fail with ENOENT.
    await rm(caFile);
    await (await requestApi(kc, HttpMethod.GET, '/api/v1/namespaces')).body.dump();
    await kc.makeApiClient(CoreV1Api).listNamespace();
    const requests = seen.slice(before);
    expect(requests).toHaveLength(3);
    for (const headers of requests) {
      expect(headers.authorization).toBe('Bearer t');
      expect(headers['impersonate-user']).toBe('someone');
    }
  });

  it('is needed: client-node alone reads the files again for every request', async () => {
    const { kc, caFile } = await configWithCaFile();
    await kc.makeApiClient(CoreV1Api).listNamespace();
    await rm(caFile);
    await expect(kc.makeApiClient(CoreV1Api).listNamespace()).rejects.toThrow(/ENOENT/);
  });
});
