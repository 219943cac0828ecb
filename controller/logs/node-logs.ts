import type { V1Node } from '@kubernetes/client-node';

/**
 * Whether the API server can fetch logs from a node: it proxies `pods/log` to the kubelet at one of
 * the node's addresses, on the port the node reports. A node with neither (a simulated node, a
 * virtual kubelet that serves no logs) never will, so the archiver does not wait for it; a node
 * that is gone serves nothing either.
 */
export function nodeServesLogs(node: V1Node | undefined): boolean {
  const addresses = node?.status?.addresses ?? [];
  const port = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  return port > 0 && addresses.some((a) => ['InternalIP', 'ExternalIP', 'Hostname'].includes(a.type));
}
