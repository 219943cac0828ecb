import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What a machine needs before it can run real nodes, each with what to do about it. Checked
 * before anything starts, so `up` fails in a second with the whole list rather than halfway.
 */
const COMMANDS = [
  { command: 'containerd', from: 'apt-get install containerd' },
  { command: 'ctr', from: 'apt-get install containerd' },
  { command: 'runc', from: 'apt-get install runc' },
  { command: 'ip', from: 'apt-get install iproute2' },
  { command: 'iptables', from: 'apt-get install iptables' },
  { command: 'ipset', from: 'apt-get install ipset' },
  { command: 'conntrack', from: 'apt-get install conntrack' },
  { command: 'nsenter', from: 'apt-get install util-linux' },
  { command: 'sysctl', from: 'apt-get install procps' },
  { command: 'openssl', from: 'apt-get install openssl' },
] as const;

/** The CNI plugins the nodes' containerd runs, where Debian's containernetworking-plugins puts them. */
export const CNI_BIN_DIR = '/usr/lib/cni';
const CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'] as const;

export function onPath(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** Every reason this machine cannot run real nodes; empty when it can. */
export function realNodeProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('real nodes need root (network namespaces, a bridge, containerd)');
  }
  for (const { command, from } of COMMANDS) {
    if (!onPath(command)) problems.push(`${command} is not installed: ${from}`);
  }
  for (const plugin of CNI_PLUGINS) {
    if (!existsSync(join(CNI_BIN_DIR, plugin))) {
      problems.push(`the CNI plugin ${plugin} is not in ${CNI_BIN_DIR}: apt-get install containernetworking-plugins`);
    }
  }
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    problems.push('the kernel has no bridge netfilter (br_netfilter): network policies could not apply between pods');
  }
  return problems;
}
