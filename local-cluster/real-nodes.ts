import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { PlatformConfig } from '../model/config/schema.js';
import { nodeLabels } from '../model/pools.js';
import { NODE_NETWORK, type NodeAddress } from './host-network.js';
import type { CertificateAuthority } from './pki.js';
import { CNI_BIN_DIR } from './real-node-preflight.js';
import { signCertificate } from './pki.js';

/**
 * Real nodes: per node, a containerd of its own (a kubelet kills sandboxes it does not know, so two
 * kubelets cannot share one), a kubelet, a kube-proxy and a NetworkPolicy agent (kube-router in
 * firewall-only mode), all in the node's network namespace (see host-network.ts). containerd's
 * content and snapshots live in the build cache, so images imported once survive `down`; its
 * state, sockets and the pods' network namespaces live in the cluster's folder and go with it.
 */
export interface RealNode extends NodeAddress {
  readonly pool: string;
  /** Where this node's state lives (removed at `down`). */
  readonly dir: string;
  /** Where its containerd keeps images and snapshots (kept across clusters). */
  readonly imageRoot: string;
  readonly containerdSocket: string;
}

const execFileAsync = promisify(execFile);

/** The label that tells a real node from a kwok one: `kubectl get nodes -l node.plinth.dev/runtime=containerd`. */
export const REAL_NODE_LABEL = { key: 'node.plinth.dev/runtime', value: 'containerd' } as const;

/**
 * The real nodes of an environment, named `<pool>-<n>`: two per core pool, for the platform's two
 * replicas and their required anti-affinity, and `cpuNodes` (one unless a benchmark needs room for
 * more pods than one node takes) per CPU pool but the simulated one.
 */
export function realNodePlan(config: PlatformConfig, cpuNodes = 1): { name: string; pool: string }[] {
  return Object.entries(config.nodePools)
    .filter(([name, pool]) => pool.role === 'core' || (pool.role === 'cpu' && name !== SIMULATED_CPU_POOL))
    .flatMap(([name, pool]) =>
      Array.from({ length: pool.role === 'core' ? 2 : cpuNodes }, (_, i) => ({ name: `${name}-${i}`, pool: name })),
    );
}

/** The `local` environment's CPU pool that stays kwok-simulated, for scale and `plinth.dev/simulate`. */
export const SIMULATED_CPU_POOL = 'sim';

export interface NodeBinaries {
  readonly kubelet: string;
  readonly 'kube-proxy': string;
  readonly 'kube-router': string;
}

export interface RealNodesContext {
  readonly config: PlatformConfig;
  readonly nodes: readonly RealNode[];
  readonly ca: CertificateAuthority;
  /** kubeconfig per identity name: `node-<name>`, `kube-proxy`, `kube-router`. */
  readonly kubeconfigs: Record<string, string>;
  readonly binaries: NodeBinaries;
  readonly pauseImage: string;
}

/** A process to start in a node's network namespace: its name in the logs, and its argv. */
export interface NodeProcess {
  readonly name: string;
  readonly argv: readonly [string, ...string[]];
}

/** Identity names of a node's kubelet, which the API server knows as system:node:<name>. */
export const kubeletIdentity = (node: string) => `node-${node}`;

export function containerdConfig(node: RealNode, pauseImage: string): string {
  // TOML by hand: two tables and a few keys do not justify a TOML library.
  return `version = 2
root = ${JSON.stringify(node.imageRoot)}
state = ${JSON.stringify(join(node.dir, 'containerd-state'))}
[grpc]
  address = ${JSON.stringify(node.containerdSocket)}
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${JSON.stringify(pauseImage)}
  # This VM lets a process raise its oom_score_adj but not lower it; runc fails on containerd's -998.
  restrict_oom_score_adj = true
  # The pods' network namespaces go in the state folder, which down sweeps, not in /run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${JSON.stringify(CNI_BIN_DIR)}
    conf_dir = ${JSON.stringify(join(node.dir, 'cni'))}
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
`;
}

const cniNetworkName = (node: RealNode) => `plinth-${node.name}`;

/** Pod networking: one bridge per node, addresses from the node's pod range, no masquerade. */
export function cniConfig(node: RealNode): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: cniNetworkName(node),
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: node.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(node.dir, 'cni-ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'loopback' },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(node: RealNode, config: PlatformConfig, tls: { cert: string; key: string }, ca: string) {
  const pool = config.nodePools[node.pool];
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // No systemd, and cgroup v1 with a non-unified hierarchy here (see the README's real nodes).
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${node.containerdSocket}`,
    // Only the API server (by its client certificate) or a token the API server vouches for may use
    // the kubelet's API: no anonymous reads of pods, logs or exec from the node network.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: ca } },
    authorization: { mode: 'Webhook' },
    readOnlyPort: 0,
    tlsCertFile: tls.cert,
    tlsPrivateKeyFile: tls.key,
    address: node.address,
    healthzBindAddress: '127.0.0.1',
    clusterDNS: [NODE_NETWORK.dnsServiceAddress],
    clusterDomain: 'cluster.local',
    // Pods that ask for the node's resolver get an empty one: nothing outside the machine resolves.
    resolvConf: '',
    staticPodPath: '',
    // Not the shared /var/log/pods: each kubelet removes the log folders of pods it does not know.
    podLogsDir: join(node.dir, 'pod-logs'),
    podCIDR: node.podCidr,
    maxPods: 110,
    registerWithTaints: (pool?.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
    // Images are imported, never pulled; keeping them is what makes the next start fast.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {},
    serializeImagePulls: false,
  };
}

export function kubeProxyConfig(node: RealNode, kubeconfig: string) {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: node.name,
    clusterCIDR: NODE_NETWORK.clusterCidr,
    bindAddress: node.address,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // A network namespace's conntrack table size is the host's to set: kube-proxy must not try.
    conntrack: { maxPerCore: 0, min: 0 },
  };
}

function writeFile(path: string, content: string, mode = 0o600): string {
  writeFileSync(path, content, { mode });
  return path;
}

/** The node object's labels and pod range, which the harness sets rather than the kubelet. */
export function nodePatch(node: RealNode, config: PlatformConfig): Partial<V1Node> {
  const pool = config.nodePools[node.pool];
  if (!pool) throw new Error(`node ${node.name}: pool "${node.pool}" is not in the local environment`);
  return {
    metadata: { labels: { ...nodeLabels(node.pool, pool), [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value } },
    spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] },
  };
}

/**
 * Writes a node's files (containerd and CNI config, kubelet certificate and config, kube-proxy
 * config) and returns what to start: containerd, then, once its images are in, the kubelet and
 * kube-proxy, and once the kubelet has registered the node, its NetworkPolicy agent.
 */
export function prepareNode(
  context: RealNodesContext,
  node: RealNode,
  containerd: string,
): { containerd: NodeProcess; agents: NodeProcess[]; networkPolicyAgent: NodeProcess } {
  const { config, ca, kubeconfigs, binaries } = context;
  for (const sub of ['cni', 'pki', 'kubelet', 'containerd-state']) mkdirSync(join(node.dir, sub), { recursive: true });
  mkdirSync(node.imageRoot, { recursive: true });
  const containerdConfigFile = writeFile(join(node.dir, 'containerd.toml'), containerdConfig(node, context.pauseImage));
  writeFile(join(node.dir, 'cni', '10-plinth.conflist'), cniConfig(node), 0o644);
  const tls = signCertificate(ca, join(node.dir, 'pki'), {
    name: 'kubelet',
    commonName: `system:node:${node.name}`,
    usage: 'server',
    ips: [node.address],
    dnsNames: [node.name],
  });
  const kubeletConfigFile = writeFile(
    join(node.dir, 'kubelet.yaml'),
    stringify(kubeletConfig(node, config, tls, ca.cert)),
  );
  const proxyConfigFile = writeFile(
    join(node.dir, 'kube-proxy.yaml'),
    stringify(kubeProxyConfig(node, kubeconfigs['kube-proxy'] as string)),
  );
  return {
    containerd: { name: `${node.name}-containerd`, argv: [containerd, '--config', containerdConfigFile] },
    agents: [
      {
        name: `${node.name}-kubelet`,
        argv: [
          binaries.kubelet,
          `--config=${kubeletConfigFile}`,
          `--kubeconfig=${kubeconfigs[kubeletIdentity(node.name)]}`,
          `--root-dir=${join(node.dir, 'kubelet')}`,
          `--hostname-override=${node.name}`,
          `--node-ip=${node.address}`,
        ],
      },
      { name: `${node.name}-kube-proxy`, argv: [binaries['kube-proxy'], `--config=${proxyConfigFile}`] },
    ],
    // It finds its node by name at start, so it starts once the kubelet has registered the node.
    networkPolicyAgent: {
      name: `${node.name}-kube-router`,
      argv: [
        binaries['kube-router'],
        `--kubeconfig=${kubeconfigs['kube-router']}`,
        `--hostname-override=${node.name}`,
        '--run-firewall=true',
        '--run-router=false',
        '--run-service-proxy=false',
        '--health-port=0',
        '--metrics-port=0',
      ],
    },
  };
}

/** The images already in a node's containerd. */
async function imagesOf(node: RealNode): Promise<Set<string>> {
  const { stdout } = await execFileAsync('ctr', ['-a', node.containerdSocket, '-n', 'k8s.io', 'images', 'ls', '-q']);
  return new Set(stdout.split('\n').filter(Boolean));
}

/** Imports each image archive a node does not have yet; the import is skipped on the next start. */
export async function importImages(
  node: RealNode,
  images: readonly { reference: string; archive: string }[],
  log: (line: string) => void,
): Promise<void> {
  const present = await imagesOf(node);
  for (const image of images.filter((i) => !present.has(i.reference))) {
    const started = performance.now();
    await execFileAsync('ctr', ['-a', node.containerdSocket, '-n', 'k8s.io', 'images', 'import', image.archive]).catch(
      (error: Error & { stderr?: string }) => {
        throw new Error(
          `node ${node.name}: importing ${image.reference} failed: ${error.stderr?.trim() ?? error.message}`,
        );
      },
    );
    log(`[cluster] ${node.name}: imported ${image.reference} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
}

/**
 * Stops what containerd still runs for a node's pods (the kubelet is gone by then), so no
 * container outlives the cluster: each task is killed through containerd itself.
 */
export function killNodeContainers(node: RealNode): void {
  if (!existsSync(node.containerdSocket)) return;
  const ctr = (...args: string[]) =>
    spawnSync('ctr', ['-a', node.containerdSocket, '-n', 'k8s.io', ...args], { encoding: 'utf8', timeout: 30_000 });
  const tasks = ctr('tasks', 'ls', '-q').stdout?.split('\n').filter(Boolean) ?? [];
  for (const task of tasks) ctr('tasks', 'kill', '-s', 'SIGKILL', task);
  for (const task of tasks) ctr('tasks', 'delete', '-f', task);
}

/** containerd shims of a node: started by containerd, so not in the harness's pid list. */
export function shimPids(node: RealNode): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(node.containerdSocket))
        pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Mount points under any of `dirs`, deepest first, so each unmounts before its parent. */
export function mountsUnder(dirs: readonly string[]): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((point) => point.replace(/\\040/g, ' '))
    .filter((point) => dirs.some((dir) => point === dir || point.startsWith(`${dir}/`)));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

export function unmountAll(dirs: readonly string[]): string[] {
  const problems: string[] = [];
  // A mount can be stacked on itself (the kubelet bind-mounts its root dir): repeat until none is left.
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dirs);
    if (mounts.length === 0) return problems;
    for (const point of mounts) spawnSync('umount', ['-l', point]);
  }
  const left = mountsUnder(dirs);
  if (left.length > 0) problems.push(`still mounted: ${left.join(', ')}`);
  return problems;
}

/**
 * What a node leaves in shared folders it does not let us move: the kubelet's links to each
 * container's log in /var/log/containers, and libcni's cached results; both go with the node.
 */
export const CONTAINER_LOG_LINKS = '/var/log/containers';

/** libcni caches each pod's network result here, named after the network (see cniConfig). */
const CNI_RESULT_CACHE = '/var/lib/cni/results';

export function removeNodeFilesOutsideItsFolder(nodes: readonly RealNode[]): void {
  if (existsSync(CNI_RESULT_CACHE)) {
    const entries = readdirSync(CNI_RESULT_CACHE);
    // `<network>-<sandbox id>-<interface>`; the loopback plugin's result carries the same sandbox id.
    const ours = entries.filter((e) => nodes.some((n) => e.startsWith(`${cniNetworkName(n)}-`)));
    const sandboxes = ours.map((e) => e.split('-').at(-2));
    const loopbacks = entries.filter((e) => sandboxes.some((id) => e === `cni-loopback-${id}-lo`));
    for (const entry of [...ours, ...loopbacks]) rmSync(join(CNI_RESULT_CACHE, entry), { force: true });
  }
  if (!existsSync(CONTAINER_LOG_LINKS)) return;
  for (const entry of readdirSync(CONTAINER_LOG_LINKS)) {
    const link = join(CONTAINER_LOG_LINKS, entry);
    try {
      const target = readlinkSync(link);
      if (nodes.some((n) => target.startsWith(`${n.dir}/`))) unlinkSync(link);
    } catch {
      // Not a link, or removed meanwhile.
    }
  }
}
