import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { delimiter } from 'node:path';
import { eventually } from './cluster-clients.js';

/**
 * A platform Service as a controller run on this machine reaches it: the in-cluster controller
 * reaches it by its Service name, which this machine cannot resolve, so the tests go through
 * `kubectl port-forward` (which the Service's NetworkPolicy does not see, as a developer's
 * `npm run controller` would not either).
 *
 * `kubectl port-forward` holds one pod of the Service and exits when that pod goes (a restart, a
 * liveness kill): a controller given its port would find the server gone for good. So the URL
 * given out is a local proxy's, which starts `kubectl port-forward` again whenever the last one
 * has exited.
 */
const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** One `kubectl port-forward`; its local port once it forwards. `exited` is called when it exits. */
function forwardOnce(
  kubeconfig: string,
  binDirs: readonly string[],
  service: string,
  port: number,
  exited: () => void,
): Promise<number> {
  const PATH = [...binDirs, process.env['PATH'] ?? ''].join(delimiter);
  const child = spawn(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'port-forward', '-n', 'plinth', `service/${service}`, `0:${port}`],
    { env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const local = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (local) resolve(Number(local));
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      children.delete(child);
      exited();
      reject(new Error(`kubectl port-forward to ${service} exited ${code}: ${err}`));
    });
  });
}

/**
 * The URL of a local proxy to a platform Service, as the admin of a cluster. It answers once a
 * first port-forward does (the Service's pods may still be starting), and lasts as long as the
 * test worker.
 */
export async function portForward(
  kubeconfig: string,
  binDirs: readonly string[],
  service: string,
  port: number,
): Promise<string> {
  let live: Promise<number> | undefined;
  const upstream = (): Promise<number> => {
    if (!live) {
      // Once it has exited, the next connection starts another.
      const started: Promise<number> = forwardOnce(kubeconfig, binDirs, service, port, () => {
        if (live === started) live = undefined;
      });
      live = started;
      started.catch(() => undefined);
    }
    return live;
  };
  // Resolved only once forwarding, so a port-forward that fails at once is tried again.
  await eventually(`a port-forward to ${service}`, () => upstream().catch(() => undefined), 180_000);
  const server = createServer((client) => {
    client.pause();
    upstream().then(
      (local) => {
        const target = connect(local, '127.0.0.1');
        client.pipe(target).pipe(client);
        client.resume();
        client.on('error', () => target.destroy());
        target.on('error', () => {
          client.destroy();
          // The port-forward may have gone; the next connection finds out.
        });
      },
      () => client.destroy(),
    );
  });
  // It keeps no test worker alive.
  server.unref();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
}
