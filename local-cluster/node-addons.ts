import type { KubernetesObject } from '@kubernetes/client-node';
import { NODE_NETWORK } from './host-network.js';
import type { Placement } from '../model/pools.js';

/**
 * What a user's own cluster already has and the real nodes need: the node agents' permissions, the
 * API server's right to use the kubelets' API, and the cluster DNS. Applied by `npm run cluster -- up`
 * before it reports ready.
 */

/** The user in the API server's kubelet client certificate. */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
/** The user of every node's NetworkPolicy agent. */
export const NETWORK_POLICY_AGENT_USER = 'system:kube-router';

const read = ['get', 'list', 'watch'];

export function nodeAgentPermissions(): KubernetesObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'plinth-harness:kubelet-api-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBELET_CLIENT_USER }],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'plinth-harness:network-policy-agent' },
      rules: [
        { apiGroups: [''], resources: ['namespaces', 'pods', 'nodes', 'services', 'endpoints'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'plinth-harness:network-policy-agent' },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'plinth-harness:network-policy-agent',
      },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: NETWORK_POLICY_AGENT_USER }],
    } as KubernetesObject,
  ];
}

const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
    loadbalance
}
`;

/**
 * CoreDNS as the cluster DNS, in kube-system with the `k8s-app: kube-dns` label the platform's
 * network policies allow DNS to, on the core pool (whose nodes are all real where there are real
 * nodes). There is no outside network, so it forwards nothing.
 */
export function clusterDns(image: string, placement: Placement): KubernetesObject[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const namespace = 'kube-system';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'plinth-harness:coredns' },
      rules: [
        { apiGroups: [''], resources: ['services', 'pods', 'namespaces', 'endpoints'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'plinth-harness:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'plinth-harness:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace }],
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace },
      data: { Corefile: COREFILE },
    } as KubernetesObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            // On the core pool, beside the platform, whose real nodes have its image.
            nodeSelector: placement.nodeSelector,
            tolerations: placement.tolerations,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
              // Port 53 without a capability: a namespaced sysctl every cluster allows.
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '53' }],
            },
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace, labels },
      spec: {
        clusterIP: NODE_NETWORK.dnsServiceAddress,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
        ],
      },
    } as KubernetesObject,
  ];
}
