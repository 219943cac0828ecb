import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The real nodes' network on this machine. Each node lives in a network namespace of its own,
 * joined by a veth pair to one host bridge, so that each node runs its own kube-proxy and its own
 * NetworkPolicy agent exactly as on a real cluster: both program the iptables of the namespace
 * they run in and treat every pod there as theirs, so they cannot share one namespace. The API
 * server listens on the bridge's address, the nodes' gateway. Pod traffic never leaves the machine:
 * nothing is masqueraded and the host forwards nothing (each node routes to the others' pod ranges
 * directly over the bridge).
 */
export const NODE_NETWORK = {
  bridge: 'plinth0',
  /** The host's address on the bridge: the API server and the nodes' default gateway. */
  hostAddress: '10.250.0.1',
  /**
   * Where the API server listens on the bridge: the port clusters serve it on, which the platform's
   * NetworkPolicies let pods out to (a policy sees the address after the `kubernetes` Service's).
   */
  apiServerPort: 6443,
  prefixLength: 24,
  /** Pod ranges are 10.244.<n>.0/24, one per real node (kwok's simulated pods use 10.64.0.0/16). */
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
  /** The `kubernetes` Service's address, in the API server's certificate. */
  apiServiceAddress: '10.96.0.1',
  dnsServiceAddress: '10.96.0.10',
  namespacePrefix: 'plinth-',
  /** The host's filter chain that keeps node traffic on the bridge. */
  forwardChain: 'PLINTH-NODES',
} as const;

/** One real node's place on the network. */
export interface NodeAddress {
  readonly name: string;
  /** The network namespace, under /run/netns. */
  readonly namespace: string;
  readonly address: string;
  readonly podCidr: string;
  /** The host end of its veth pair. */
  readonly hostLink: string;
}

export function nodeAddresses(names: readonly string[]): NodeAddress[] {
  return names.map((name, i) => ({
    name,
    namespace: `${NODE_NETWORK.namespacePrefix}${name}`,
    address: `10.250.0.${11 + i}`,
    podCidr: `10.244.${1 + i}.0/24`,
    // Interface names are at most 15 characters: an index, not the node name.
    hostLink: `plinth-veth${i}`,
  }));
}

export function namespacePath(node: NodeAddress): string {
  return `/run/netns/${node.namespace}`;
}

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${what}: ${command} could not run (${result.error.message})`);
  if (result.status !== 0) throw new Error(`${what}: ${command} ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

const ip = (args: string[], what: string) => run('ip', args, what);

/**
 * Node and pod traffic may cross the bridge and reach the host, never leave the machine: on a host
 * that forwards (one with Docker, say), the chain drops whatever the bridge would hand elsewhere.
 * It also accepts bridge-to-bridge traffic where a FORWARD policy of DROP would refuse it.
 */
const FORWARD_RULE = ['FORWARD', '-i', NODE_NETWORK.bridge, '-j', NODE_NETWORK.forwardChain];

/** Any leftover of an earlier cluster that was not stopped: `up` refuses rather than share it. */
export function leftoverNetwork(nodes: readonly NodeAddress[]): string | undefined {
  if (existsSync(`/sys/class/net/${NODE_NETWORK.bridge}`)) return `bridge ${NODE_NETWORK.bridge}`;
  if (spawnSync('iptables', ['-w', '-S', NODE_NETWORK.forwardChain]).status === 0) {
    return `iptables chain ${NODE_NETWORK.forwardChain}`;
  }
  const namespace = nodes.find((n) => existsSync(namespacePath(n)));
  if (namespace) return `network namespace ${namespace.namespace}`;
  const link = nodes.find((n) => existsSync(`/sys/class/net/${n.hostLink}`));
  return link ? `link ${link.hostLink}` : undefined;
}

export function createNodeNetwork(nodes: readonly NodeAddress[]): void {
  const { bridge, hostAddress, prefixLength } = NODE_NETWORK;
  ip(['link', 'add', bridge, 'type', 'bridge'], `creating bridge ${bridge}`);
  ip(['addr', 'add', `${hostAddress}/${prefixLength}`, 'dev', bridge], `addressing bridge ${bridge}`);
  ip(['link', 'set', bridge, 'up'], `starting bridge ${bridge}`);
  const chain = NODE_NETWORK.forwardChain;
  const what = 'keeping node traffic on the bridge';
  run('iptables', ['-w', '-N', chain], what);
  run('iptables', ['-w', '-A', chain, '-o', bridge, '-j', 'ACCEPT'], what);
  run('iptables', ['-w', '-A', chain, '-j', 'DROP'], what);
  run('iptables', ['-w', '-I', ...FORWARD_RULE], what);
  for (const node of nodes) {
    const what = `node ${node.name}'s network`;
    ip(['netns', 'add', node.namespace], what);
    ip(['link', 'add', node.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.namespace], what);
    ip(['link', 'set', node.hostLink, 'master', bridge, 'up'], what);
    const inNode = (args: string[]) => ip(['-n', node.namespace, ...args], what);
    inNode(['addr', 'add', `${node.address}/${prefixLength}`, 'dev', 'eth0']);
    inNode(['link', 'set', 'eth0', 'up']);
    inNode(['link', 'set', 'lo', 'up']);
    inNode(['route', 'add', 'default', 'via', hostAddress]);
    // The node routes its pods' traffic, and bridged pod traffic must pass iptables for Services and
    // NetworkPolicies to apply between pods of one node.
    run('ip', ['netns', 'exec', node.namespace, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], what);
    run('ip', ['netns', 'exec', node.namespace, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1'], what);
  }
  for (const node of nodes) {
    // The host reaches pods (tests read a run's server directly); nodes reach each other's pods.
    ip(['route', 'add', node.podCidr, 'via', node.address], `routing to node ${node.name}'s pods`);
    for (const other of nodes.filter((o) => o !== node)) {
      ip(['-n', other.namespace, 'route', 'add', node.podCidr, 'via', node.address], `routing to ${node.name}'s pods`);
    }
  }
}

/** Removes what `createNodeNetwork` made, whatever part of it exists; never throws. */
export function removeNodeNetwork(nodes: readonly NodeAddress[]): string[] {
  const problems: string[] = [];
  const attempt = (args: string[]) => {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    if (result.status !== 0) problems.push(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
  };
  // The kernel dismantles a deleted namespace later, with its links; deleting the host's end of
  // each veth first removes both ends at once, so that a next `up` finds the names free.
  for (const node of nodes)
    if (existsSync(`/sys/class/net/${node.hostLink}`)) attempt(['link', 'delete', node.hostLink]);
  // Deleting a namespace deletes every link in it (its pod bridge, the pods' veths still there)
  // and its iptables rules.
  for (const node of nodes) if (existsSync(namespacePath(node))) attempt(['netns', 'delete', node.namespace]);
  if (existsSync(`/sys/class/net/${NODE_NETWORK.bridge}`)) attempt(['link', 'delete', NODE_NETWORK.bridge]);
  const iptables = (args: string[]) => spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });
  while (iptables(['-C', ...FORWARD_RULE]).status === 0) iptables(['-D', ...FORWARD_RULE]);
  if (iptables(['-S', NODE_NETWORK.forwardChain]).status === 0) {
    for (const step of [['-F'], ['-X']]) {
      const result = iptables([...step, NODE_NETWORK.forwardChain]);
      if (result.status !== 0)
        problems.push(`iptables ${step[0]} ${NODE_NETWORK.forwardChain}: ${result.stderr.trim()}`);
    }
  }
  return problems;
}
