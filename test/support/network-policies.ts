import { NAMESPACE_NAME_LABEL } from '../../model/labels.js';
import type { K8sObject } from './platform.js';

/**
 * Which connections a set of NetworkPolicies allows, read as the Kubernetes API defines them:
 * a pod selected by no policy of a direction is open in that direction; once selected, only what
 * some rule of a policy selecting it allows passes; a connection needs the sender's egress and the
 * receiver's ingress. The local cluster's pods do not run (kwok), so until real nodes carry real
 * traffic, tests read the synthesized policies through this.
 */

/** A pod: its namespace and labels. */
export interface PodEndpoint {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}
/** An address outside the cluster. */
export interface ExternalEndpoint {
  readonly address: string;
}
export type Endpoint = PodEndpoint | ExternalEndpoint;

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Peer {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Port {
  port?: number;
  protocol?: string;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Port[];
}
interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

const isPod = (e: Endpoint): e is PodEndpoint => 'namespace' in e;

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return labels[key] !== undefined && values.includes(labels[key]);
      case 'NotIn':
        return labels[key] === undefined || !values.includes(labels[key]);
      case 'Exists':
        return labels[key] !== undefined;
      case 'DoesNotExist':
        return labels[key] === undefined;
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabel && byExpression;
}

function ipv4(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}
function inCidr(address: string, cidr: string): boolean {
  const [base = '', bits = '0'] = cidr.split('/');
  if (base.includes(':') || address.includes(':')) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(base) / size);
}

/** Whether a rule's peer is the other end: pods by selectors (in the policy's namespace by default), addresses by ipBlock. */
function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    if (isPod(other)) return false;
    return (
      inCidr(other.address, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(other.address, e))
    );
  }
  if (!isPod(other)) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, { [NAMESPACE_NAME_LABEL]: other.namespace })
    : other.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector ?? {}, other.labels);
}

function ruleAllows(rule: Rule, peers: Peer[] | undefined, policyNamespace: string, other: Endpoint, port: number) {
  const portOk = !rule.ports?.length || rule.ports.some((p) => p.port === undefined || p.port === port);
  const peerOk = !peers?.length || peers.some((peer) => peerMatches(peer, policyNamespace, other));
  return portOk && peerOk;
}

export class NetworkPolicies {
  private readonly policies: { namespace: string; spec: PolicySpec }[];

  constructor(objects: readonly K8sObject[]) {
    this.policies = objects
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => ({ namespace: o.metadata.namespace ?? '', spec: o['spec'] as PolicySpec }));
  }

  private direction(pod: PodEndpoint, type: 'Ingress' | 'Egress', other: Endpoint, port: number): boolean {
    const applying = this.policies.filter(
      (p) =>
        p.namespace === pod.namespace &&
        (p.spec.policyTypes ?? ['Ingress']).includes(type) &&
        selects(p.spec.podSelector, pod.labels),
    );
    if (applying.length === 0) return true;
    return applying.some((p) =>
      (type === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some((rule) =>
        ruleAllows(rule, type === 'Ingress' ? rule.from : rule.to, p.namespace, other, port),
      ),
    );
  }

  /** Whether `from` may open a TCP connection to `to` on `port`. */
  allows(from: PodEndpoint, to: Endpoint, port: number): boolean {
    const out = this.direction(from, 'Egress', to, port);
    return out && (!isPod(to) || this.direction(to, 'Ingress', from, port));
  }
}
