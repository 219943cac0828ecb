import { isIP } from 'node:net';

/**
 * Where a platform pod or a run sends traffic, in the terms a NetworkPolicy can name: a namespace
 * of the cluster, a list of CIDRs, or any address at all. NetworkPolicies match addresses, never
 * DNS names, so a destination named by an outside host name has no address here until the config
 * gives its CIDRs.
 */
export type NetworkDestination =
  | { readonly kind: 'namespace'; readonly namespace: string; readonly port: number }
  | { readonly kind: 'cidrs'; readonly cidrs: readonly string[]; readonly port: number }
  | {
      readonly kind: 'any-address';
      readonly port: number;
      /** Why no address could be named: said wherever the opening is written. */
      readonly why: string;
    };

/** In-cluster Service host names: `<service>.<namespace>.svc`, or with the default cluster domain. */
const SERVICE_HOST = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;

/**
 * The destination of a host, when a NetworkPolicy can name it: the namespace of an in-cluster
 * Service, or the address itself for an IP. Undefined for any other host name, which resolves to
 * addresses the config alone knows. A Service is assumed to forward to the same port on its pods,
 * since NetworkPolicies match the pod's port, after the Service has translated it.
 */
export function hostDestination(host: string, port: number): NetworkDestination | undefined {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const version = isIP(bare);
  if (version !== 0) return { kind: 'cidrs', cidrs: [`${bare}/${version === 4 ? 32 : 128}`], port };
  const service = SERVICE_HOST.exec(host);
  if (service?.[2]) return { kind: 'namespace', namespace: service[2], port };
  return undefined;
}

/** The port a URL is served on: its own, or its scheme's. */
export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}

/** A CIDR that covers every address, which names nothing. */
export function isAnyAddress(cidr: string): boolean {
  return cidr.endsWith('/0');
}
