import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import { artifactStoreDestination } from '../model/artifacts.js';
import type { PlatformConfig } from '../model/config/schema.js';
import { NAMESPACE_NAME_LABEL, POLICY_WAIVER_ANNOTATION } from '../model/labels.js';
import type { NetworkDestination } from '../model/network-destination.js';
import { EGRESS_NAMES_DESTINATION } from '../policies/rules/isolation.js';

/**
 * The NetworkPolicy vocabulary the platform and team namespaces share. Each namespace denies all
 * traffic, then admits each flow in a policy of its own, whose comment says why the flow exists.
 * The kubelet's probes need no rule: traffic from a pod's own node is always allowed.
 */

/** Every pod of a namespace, named by the label the API server sets on it. */
export const namespacePeer = (name: string): k8s.NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: name } },
});

/** The pods with these labels, in the policy's own namespace. */
export const podsPeer = (labels: Record<string, string>): k8s.NetworkPolicyPeer => ({
  podSelector: { matchLabels: labels },
});

export const tcp = (port: number): k8s.NetworkPolicyPort => ({
  protocol: 'TCP',
  port: k8s.IntOrString.fromNumber(port),
});

/**
 * The API server, for the pods that watch or write objects. Its address is the control plane's,
 * which the config does not know, and most network plugins match a policy against the address the
 * `kubernetes` Service translates to, not the Service's own: so any address, on the ports API
 * servers serve on (443 on managed control planes, 6443 on kubeadm and most others). Only the pods
 * that hold a token are given it.
 */
export const API_SERVER_EGRESS: k8s.NetworkPolicyEgressRule = { ports: [443, 6443].map(tcp) };

/** An egress rule to a destination, on its port only. */
export function egressTo(destination: NetworkDestination): k8s.NetworkPolicyEgressRule {
  const ports = [tcp(destination.port)];
  switch (destination.kind) {
    case 'namespace':
      return { to: [namespacePeer(destination.namespace)], ports };
    case 'cidrs':
      return { to: destination.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports };
    case 'any-address':
      return { ports };
  }
}

/** Where the artifact store's clients are let out to; undefined for a volume store, reached through its claim. */
export function artifactStoreEgress(config: PlatformConfig): NetworkDestination | undefined {
  const store = artifactStoreDestination(config.artifacts);
  // Config validation refuses such a store first, naming the field.
  if (store?.kind === 'unnamed') throw new Error(`artifacts.egressCidrs: ${store.problem}`);
  return store;
}

/**
 * The annotation of a policy that lets every pod of its namespace out to a destination the
 * platform could not name: the waiver of the rule against it, with the reason, which `plinth
 * check` reports each time rather than letting it pass unseen.
 */
export function anyAddressWaiver(destination: NetworkDestination): Record<string, string> | undefined {
  if (destination.kind !== 'any-address') return undefined;
  return { [POLICY_WAIVER_ANNOTATION]: `${EGRESS_NAMES_DESTINATION}=${destination.why}` };
}

export interface PolicyMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface AllowTrafficProps {
  readonly metadata: PolicyMetadata;
  /** The pods the policy opens paths for; an empty selector is every pod of the namespace. */
  readonly podSelector: k8s.LabelSelector;
  readonly ingress?: k8s.NetworkPolicyIngressRule[];
  readonly egress?: k8s.NetworkPolicyEgressRule[];
}

/** One allow policy: the directions it lists rules for are the ones it opens. */
export class AllowTraffic extends Construct {
  constructor(scope: Construct, id: string, props: AllowTrafficProps) {
    super(scope, id);
    const ingress = props.ingress ?? [];
    const egress = props.egress ?? [];
    new k8s.KubeNetworkPolicy(this, 'policy', {
      metadata: props.metadata,
      spec: {
        podSelector: props.podSelector,
        policyTypes: [...(ingress.length > 0 ? ['Ingress'] : []), ...(egress.length > 0 ? ['Egress'] : [])],
        ingress: ingress.length > 0 ? ingress : undefined,
        egress: egress.length > 0 ? egress : undefined,
      },
    });
  }
}

export interface DenyByDefaultProps {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** What every namespace of the platform starts from: no traffic in or out, but DNS lookups. */
export class DenyByDefault extends Construct {
  constructor(scope: Construct, id: string, props: DenyByDefaultProps) {
    super(scope, id);
    const metadata = (name: string) => ({ name, namespace: props.namespace, labels: props.labels });
    new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: metadata('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    // Every pod resolves names through the cluster DNS, in kube-system.
    new AllowTraffic(this, 'allow-dns', {
      metadata: metadata('allow-dns'),
      podSelector: {},
      egress: [
        {
          to: [{ ...namespacePeer('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
            { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
          ],
        },
      ],
    });
  }
}
