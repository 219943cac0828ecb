import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { withPooledConnections } from '../../controller/runtime/kube-config.js';
import type { ClusterState } from '../../local-cluster/control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterState;
  }
}

export function cluster(): ClusterState {
  return inject('cluster');
}

/** A client config acting as one of the harness identities (admin, vision-dev, ...). */
export function kubeConfigAs(identity: string): KubeConfig {
  const path = cluster().kubeconfigs[identity];
  if (!path) throw new Error(`no identity "${identity}"; known: ${Object.keys(cluster().kubeconfigs).join(', ')}`);
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return withPooledConnections(kc);
}

/** A client config authenticating with a bearer token, e.g. a ServiceAccount's. */
export function kubeConfigWithToken(token: string, name: string): KubeConfig {
  const state = cluster();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'plinth-local', server: state.server, caFile: state.caFile, skipTLSVerify: false }],
    users: [{ name, token }],
    contexts: [{ name, cluster: 'plinth-local', user: name }],
    currentContext: name,
  });
  return withPooledConnections(kc);
}

export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
