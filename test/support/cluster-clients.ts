import { execFile } from 'node:child_process';
import { delimiter } from 'node:path';
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

export function kubeconfigFileOf(identity: string): string {
  const path = cluster().kubeconfigs[identity];
  if (!path) throw new Error(`no identity "${identity}"; known: ${Object.keys(cluster().kubeconfigs).join(', ')}`);
  return path;
}

/** A client config acting as one of the harness identities (admin, vision-dev, ...). */
export function kubeConfigAs(identity: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFileOf(identity));
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

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the toolchain's kubectl as one of the harness identities; resolves whatever it exits with.
 * Asynchronous, so that a controller piping its logs to this process is never held up meanwhile.
 */
export function kubectl(identity: string, args: readonly string[]): Promise<KubectlResult> {
  const kubeconfig = kubeconfigFileOf(identity);
  // The pinned kubectl first on PATH, as `npm run cluster -- env` sets it up for users.
  const PATH = [...cluster().binDirs, process.env['PATH'] ?? ''].join(delimiter);
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { env: { ...process.env, PATH }, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) resolve({ code: 0, stdout, stderr });
        // Not an exit code: kubectl did not start at all (not found, say).
        else if (typeof error.code !== 'number') reject(error);
        else resolve({ code: error.code, stdout, stderr });
      },
    );
  });
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
