import { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

/**
 * Makes every API client made from `kc` share one connection pool per API server.
 *
 * @kubernetes/client-node 2.0 builds a new undici Agent for each request, so every API call pays
 * a fresh TLS handshake and certificate parsing, on both sides; under load that was most of the
 * controller's CPU and a third of the API server's. The TLS settings are read once, with the
 * config, so one Agent per API server serves the life of the process (tokens travel in headers).
 */
export function withPooledConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: CreateDispatcher };
  const create = target.createDispatcher.bind(kc);
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = (cluster as { server?: string } | null)?.server ?? '';
    if (!dispatchers.has(key)) dispatchers.set(key, create(cluster, agentOptions));
    return dispatchers.get(key);
  };
  return kc;
}

/** KUBECONFIG (or in-cluster) credentials, with pooled connections. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return withPooledConnections(kc);
}
