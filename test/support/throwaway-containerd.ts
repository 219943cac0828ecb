/**
 * A containerd of a test's own: its root, state, sockets and config under one temporary folder,
 * with no CRI plugin, so that it shares nothing with the machine's or a real node's. It needs root.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayContainerd {
  readonly dir: string;
  /** Runs ctr against it, in the namespace the kubelet uses; throws with ctr's output when it fails. */
  ctr(...args: string[]): string;
  stop(): Promise<void>;
}

function config(dir: string): string {
  return [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.tracing"]',
    '[grpc]',
    `  address = "${dir}/containerd.sock"`,
    '[ttrpc]',
    `  address = "${dir}/containerd.sock.ttrpc"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
  ].join('\n');
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Mount points under `dir` (a container's root filesystem), deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort()
    .reverse();
}

export async function startContainerd(): Promise<ThrowawayContainerd> {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-containerd-'));
  writeFileSync(join(dir, 'config.toml'), config(dir));
  const daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  daemon.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString('utf8')));
  const ctr = (...args: string[]) => {
    const result = spawnSync('ctr', ['--address', join(dir, 'containerd.sock'), '--namespace', 'k8s.io', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status !== 0) throw new Error(`ctr ${args.join(' ')} failed: ${result.stderr}${result.error ?? ''}`);
    return result.stdout;
  };
  const stop = async () => {
    daemon.kill('SIGTERM');
    await exited(daemon);
    for (const point of mountsUnder(dir)) spawnSync('umount', [point]);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (daemon.exitCode !== null) break;
    if (spawnSync('ctr', ['--address', join(dir, 'containerd.sock'), 'version']).status === 0)
      return { dir, ctr, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`containerd did not start:\n${log.join('')}`);
}
