import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { NODE_NETWORK } from '../../local-cluster/host-network.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../../stacks/environments/index.js';
import { cluster, eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { logsOfRun, podOfRun, pythonJob } from '../support/python-runs.js';
import { deleteRuns, inPhase, submittedRuns, waitForRun } from '../support/runs.js';

/**
 * The team namespaces' NetworkPolicies, enforced on real nodes by their policy agent: each probe
 * here is a TCP connection a run really opens, and each "blocked" has a positive control that
 * shows the same address answers whoever is let through.
 */
const VISION = 'plinth-vision';
const NLP = 'plinth-nlp';
const admin = () => kubeConfigAs('admin');
const config = validatePlatformConfig('local', environments['local']);
/** A connection of the local environment open to any address on 443, with a Secret the runs read. */
const CONNECTION = config.connections.find((c) => c.name === 'huggingface');
const RUN_TIMEOUT_MS = 180_000;
const SERVER_PORT = 8080;
/** The host, on the node bridge, stands in for an outside service on the connection's port. */
const OUTSIDE = { host: NODE_NETWORK.hostAddress, port: 443 };

const vision = submittedRuns(VISION);
const nlp = submittedRuns(NLP);
let controller: ControllerProcess | undefined;
let outside: Server;
let madeSecret = false;
let outsideConnections = 0;

/**
 * Python that prints `<label> reached` or `<label> blocked` for each TCP probe, at the run's first
 * line: the platform's network gate has held the run until its policies are in place. A name that
 * does not resolve fails the run rather than reading as blocked.
 */
const probes = (targets: readonly [label: string, host: string, port: number][]) => [
  'import socket',
  'def connects(host, port):',
  '    address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4]',
  '    try:',
  '        socket.create_connection(address, timeout=5).close(); return True',
  '    except OSError:',
  '        return False',
  'def probe(label, host, port):',
  '    print(label, "reached" if connects(host, port) else "blocked")',
  ...targets.map(([label, host, port]) => `probe(${JSON.stringify(label)}, ${JSON.stringify(host)}, ${port})`),
];

/** The run's output, line by line. */
const linesOf = async (namespace: string, run: string) => (await logsOfRun(namespace, run)).trim().split('\n');

describe('network isolation on real nodes', { timeout: RUN_TIMEOUT_MS * 2 }, () => {
  beforeAll(async () => {
    if (cluster().realNodes.length === 0) {
      throw new Error('these probes run on real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    }
    if (!CONNECTION) throw new Error('the local environment has no huggingface connection');
    outside = createServer((socket) => {
      outsideConnections += 1;
      socket.end();
    });
    await new Promise<void>((resolve) => outside.listen(OUTSIDE.port, OUTSIDE.host, resolve));
    // Another suite may have made the team's token already; this one removes only what it made.
    madeSecret = await admin()
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({
        namespace: VISION,
        body: { metadata: { name: CONNECTION.secret?.name ?? '' }, stringData: { HF_TOKEN: 'not-a-real-token' } },
      })
      .then(
        () => true,
        (error: unknown) => {
          if ((error as { code?: number }).code === 409) return false;
          throw error;
        },
      );
    controller = await startSyncedController('isolation');
  });
  afterAll(async () => {
    await deleteRuns(admin(), VISION, vision.names);
    await deleteRuns(admin(), NLP, nlp.names);
    if (madeSecret) {
      await admin()
        .makeApiClient(CoreV1Api)
        .deleteNamespacedSecret({ namespace: VISION, name: CONNECTION?.secret?.name ?? '' });
    }
    outside?.close();
    if (controller) expect(await controller.stop()).toBe(0);
  });

  it("keeps a team's runs from another team's pods and from Postgres, and lets them reach the tracking server and the store", async () => {
    // Team nlp serves on a port and reaches itself at its own address: the server answers there.
    await nlp.submit(
      'server',
      pythonJob([
        'import http.server, threading, socket, time',
        `server = http.server.ThreadingHTTPServer(("0.0.0.0", ${SERVER_PORT}), http.server.SimpleHTTPRequestHandler)`,
        'threading.Thread(target=server.serve_forever, daemon=True).start()',
        ...probes([]),
        `probe("self", socket.gethostbyname(socket.gethostname()), ${SERVER_PORT})`,
        'time.sleep(600)',
      ]),
    );
    const address = await eventually(
      'team nlp server to run',
      async () => {
        const pod = await podOfRun(NLP, 'server');
        return pod?.status?.phase === 'Running' ? pod.status.podIP : undefined;
      },
      RUN_TIMEOUT_MS,
    );
    const store = new URL(config.artifacts.kind === 's3' ? (config.artifacts.endpoint ?? '') : '');
    await vision.submit(
      'probe',
      pythonJob(
        probes([
          ['other-team', String(address), SERVER_PORT],
          ['postgres', `plinth-db-rw.${config.namespace}.svc`, 5432],
          ['tracking', `tracking.${config.namespace}.svc`, 5000],
          ['store', store.hostname, Number(store.port)],
          ['outside', OUTSIDE.host, OUTSIDE.port],
        ]),
      ),
    );
    const run = await waitForRun(VISION, 'probe', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('succeeded');
    expect(await linesOf(VISION, 'probe')).toEqual([
      'other-team blocked',
      'postgres blocked',
      'tracking reached',
      'store reached',
      'outside blocked',
    ]);
    expect(await linesOf(NLP, 'server')).toContain('self reached');
  });

  it('lets out to a connection only the runs that name it', async () => {
    const before = outsideConnections;
    await vision.submit(
      'named',
      pythonJob(probes([['outside', OUTSIDE.host, OUTSIDE.port]]), { spec: { connections: [CONNECTION?.name] } }),
    );
    const run = await waitForRun(VISION, 'named', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('succeeded');
    expect(await linesOf(VISION, 'named')).toEqual(['outside reached']);
    expect(outsideConnections).toBeGreaterThan(before);
  });
});
