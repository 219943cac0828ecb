import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeconfigYaml } from '../../local-cluster/control-plane.js';
import { NODE_NETWORK } from '../../local-cluster/host-network.js';
import { cluster } from './cluster-clients.js';
import { serviceAccountToken } from './access.js';
import { logArchiveAccess } from './log-archive.js';
import { trackingEndpoint } from './tracking.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Controllers still running when the test worker exits are killed with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));

/**
 * The arguments that start the controller as `npm run controller` does: node --import tsx, not the
 * tsx CLI, so that signals (SIGKILL included) reach the controller itself.
 */
export const controllerArgs = (flags: string[]): string[] => [
  '--import',
  'tsx',
  join(ROOT, 'controller', 'main.ts'),
  ...flags,
];

/** A controller process, as `npm run controller` runs it, with its ServiceAccount's real RBAC. */
export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly metricsUrl: string;
  /** Where it serves the logs API, on the node network's host address, if asked to. */
  readonly logsApiPort?: number | undefined;
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startController(
  identity: string,
  options: {
    leaseDurationSeconds?: number;
    resyncSeconds?: number;
    /** The ConfigMap of platform defaults it reads, where not the platform's own. */
    configMap?: string;
    /**
     * Whether it makes each run's MLflow run, and where it reaches the tracking server: `true` for
     * the port-forward to it, a URL for another way there. Off unless asked for: the suites of
     * other features keep their runs' timing and the tracking server's load as they were.
     */
    tracking?: boolean | string;
    /**
     * Whether it serves the logs API, on the node network's host address, where the API server
     * reaches it (test/support/logs-api.ts registers it). Off unless asked for, like tracking.
     */
    logsApi?: boolean;
  } = {},
): Promise<ControllerProcess> {
  const state = cluster();
  const kubeconfig = join(state.dir, `controller-${identity}.kubeconfig`);
  const token = await serviceAccountToken('plinth', 'plinth-controller');
  await writeFile(kubeconfig, kubeconfigYaml(state.server, state.caFile, 'plinth-controller', token), { mode: 0o600 });
  const archive = await logArchiveAccess();
  const tracking = options.tracking === true ? await trackingEndpoint() : options.tracking || undefined;
  if (options.tracking === true && !tracking) throw new Error('tracking needs the real tracking server, on real nodes');
  const child = spawn(
    process.execPath,
    controllerArgs([
      `--identity=${identity}`,
      // Free ports, which the controller picks and logs: one picked here could be taken meanwhile.
      '--metrics-port=0',
      '--health-port=0',
      `--lease-duration=${options.leaseDurationSeconds ?? 4}`,
      ...(options.resyncSeconds ? [`--resync-seconds=${options.resyncSeconds}`] : []),
      ...(archive ? [`--log-archive-endpoint=${archive.endpoint}`] : []),
      ...(tracking ? [`--tracking-endpoint=${tracking}`] : ['--no-tracking']),
      ...(options.configMap ? [`--config-map=${options.configMap}`] : []),
      ...(options.logsApi ? [`--bind-address=${NODE_NETWORK.hostAddress}`, '--logs-api-port=0'] : ['--no-logs-api']),
    ]),
    {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: kubeconfig, LOG_LEVEL: 'info', ...archive?.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  child.on('exit', () => running.delete(child));
  const logs: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
    listeners.forEach((l) => l());
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const handle: ControllerProcess = {
    child,
    logs,
    metricsUrl: '',
    waitForLog(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `controller ${identity} did not log the expected line; stderr:\n${stderr}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
  const serving = await handle.waitForLog((l) => l['msg'] === 'serving metrics and health');
  const host = options.logsApi ? NODE_NETWORK.hostAddress : '127.0.0.1';
  const logsApi = options.logsApi ? await handle.waitForLog((l) => l['msg'] === 'serving the logs API') : undefined;
  return {
    ...handle,
    metricsUrl: `http://${host}:${String(serving['metricsPort'])}/metrics`,
    logsApiPort: logsApi ? Number(logsApi['logsApiPort']) : undefined,
  };
}

/** Starts a controller and waits until it has listed everything and reconciles: what most suites need. */
export async function startSyncedController(
  identity: string,
  options: Parameters<typeof startController>[1] = {},
): Promise<ControllerProcess> {
  const controller = await startController(identity, options);
  await controller.waitForLog((l) => l['msg'] === 'caches synced');
  return controller;
}
