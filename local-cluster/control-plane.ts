import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { corePlacement, POOL_LABEL } from '../model/pools.js';
import { stringify } from 'yaml';
import { validatePlatformConfig } from '../model/config/validate.js';
import { environments } from '../stacks/environments/index.js';
import { identitiesFor, tokenAuthFile, type Identity } from './token-identities.js';
import { kwokStages } from './kwok-stages.js';
import { KWOK_NODE_ANNOTATION, simulatedNodes } from './simulated-nodes.js';
import { cacheDir, ensureToolchain, type Binaries } from './toolchain.js';
import {
  createNodeNetwork,
  leftoverNetwork,
  NODE_NETWORK,
  namespacePath,
  nodeAddresses,
  removeNodeNetwork,
} from './host-network.js';
import { createCertificateAuthority, signCertificate } from './pki.js';
import {
  importImages,
  killNodeContainers,
  kubeletIdentity,
  nodePatch,
  prepareNode,
  removeNodeFilesOutsideItsFolder,
  realNodePlan,
  shimPids,
  unmountAll,
  type NodeBinaries,
  type RealNode,
} from './real-nodes.js';
import { clusterDns, KUBELET_CLIENT_USER, NETWORK_POLICY_AGENT_USER, nodeAgentPermissions } from './node-addons.js';
import { applyOrThrow, installCrds } from './server-side-apply.js';
import { CLOUDNATIVE_PG_DEPLOYMENT, CLOUDNATIVE_PG_NAMESPACE, cloudNativePgInstall } from './cloudnative-pg.js';
import { waitForDeploymentAvailable } from './deployment-readiness.js';
import { localStorage } from './local-storage.js';
import { onPath } from './real-node-preflight.js';

/**
 * A real Kubernetes control plane (etcd, kube-apiserver with RBAC, NodeRestriction and PodSecurity
 * admission, kube-controller-manager, kube-scheduler) with nodes shaped like the `local`
 * environment's pools. With real nodes, the core and cpu pools are real kubelets that run
 * containers (see real-nodes.ts) and the GPU pools and the `sim` pool are kwok-simulated; without,
 * every pool is simulated and the API server listens on 127.0.0.1 only. Processes outlive the
 * caller; their pids and the kubeconfigs are kept in the state directory, which `stopCluster`
 * reads back.
 */
export interface ClusterImages {
  /** The sandbox image every real node's containerd runs pods in. */
  readonly pause: string;
  /** The cluster DNS image. */
  readonly dns: string;
  /** CloudNativePG's operator image, which also copies its instance manager into Postgres pods. */
  readonly cloudNativePg: string;
  /**
   * Every image to load into the real nodes (including the two above): reference, OCI archive, and
   * which nodes need it: core nodes run the platform, the others runs.
   */
  readonly archives: readonly { reference: string; archive: string; nodes: 'core' | 'runs' | 'all' }[];
}

export interface RealNodeOptions {
  readonly binaries: NodeBinaries;
  readonly images: ClusterImages;
  /** Real nodes per CPU pool [1]; `bench:logs` runs more pods at once than one node takes. */
  readonly cpuNodesPerPool?: number;
}

export interface ClusterOptions {
  /** State directory: logs, data, kubeconfigs, pids. */
  readonly dir: string;
  /** How long simulated Job pods run before they complete [1000]. */
  readonly jobDurationMs?: number;
  /** How long a scheduled pod takes to start [200]. */
  readonly podStartMs?: number;
  /** Simulated nodes per pool [2]. */
  readonly nodesPerPool?: number;
  /** The address the API server binds and advertises [127.0.0.1]. */
  readonly apiAddress?: string;
  /** Progress lines; defaults to stderr. */
  readonly log?: (line: string) => void;
  /** Real nodes for the core and cpu pools; without them every pool is kwok-simulated. */
  readonly realNodes?: RealNodeOptions;
}

export interface ClusterState {
  readonly dir: string;
  readonly server: string;
  readonly caFile: string;
  /** The admin kubeconfig. */
  readonly kubeconfig: string;
  /** One kubeconfig per identity (admin, team members), by identity name. */
  readonly kubeconfigs: Record<string, string>;
  readonly identities: Record<string, { user: string; groups: string[] }>;
  readonly binDirs: string[];
  readonly processes: { name: string; pid: number; bin: string }[];
  readonly nodes: string[];
  /** The real nodes, for `down` to stop their containers and remove their network. */
  readonly realNodes: RealNode[];
  readonly readyMs: number;
}

/** The name the API server's front-proxy client certificate has, and aggregated APIs accept. */
const FRONT_PROXY_CLIENT = 'front-proxy-client';

const STATE_FILE = 'state.json';

export function readClusterState(dir: string): ClusterState | undefined {
  const file = join(dir, STATE_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClusterState) : undefined;
}

/** The shell lines that point kubectl (and other tools) at the cluster. */
export function exportLines(state: ClusterState): string[] {
  return [`export KUBECONFIG=${state.kubeconfig}`, `export PATH=${state.binDirs.join(':')}:$PATH`];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function writeAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, content, { mode });
  await rename(`${path}.tmp`, path);
}

/** A kubeconfig for one identity, authenticating with a bearer token. */
export function kubeconfigYaml(server: string, caFile: string, name: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'plinth-local', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name, user: { token } }],
    contexts: [{ name: `${name}@plinth-local`, context: { cluster: 'plinth-local', user: name } }],
    'current-context': `${name}@plinth-local`,
  });
}

function httpsStatus(url: string, ca: Buffer, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

function processAlive(pid: number, bin: string): boolean {
  try {
    // The pid must still be the binary we started, not a recycled pid.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === bin;
  } catch {
    return false;
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startCluster(options: ClusterOptions): Promise<ClusterState> {
  const log = options.log ?? ((line: string) => console.error(line));
  const started = performance.now();
  const dir = options.dir;
  if (readClusterState(dir)) throw new Error(`a cluster is already running from ${dir}; stop it first`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true });

  const bin: Binaries = ensureToolchain();
  const config = validatePlatformConfig('local', environments['local']);
  const real = options.realNodes;
  const plan = realNodePlan(config, real?.cpuNodesPerPool);
  const realNodes: RealNode[] = real
    ? nodeAddresses(plan.map((n) => n.name)).map((address, i) => ({
        ...address,
        pool: plan[i]?.pool ?? '',
        dir: join(dir, 'nodes', address.name),
        imageRoot: join(cacheDir(), 'node-images', address.name),
        containerdSocket: join(dir, 'nodes', address.name, 'containerd.sock'),
      }))
    : [];
  if (real) {
    const leftover = leftoverNetwork(realNodes);
    if (leftover) {
      throw new Error(`${leftover} is left from a cluster that was not stopped: run \`npm run cluster -- down\` first`);
    }
  }
  const identities = identitiesFor(config, {
    ...Object.fromEntries(
      realNodes.map((n) => [kubeletIdentity(n.name), { user: `system:node:${n.name}`, groups: ['system:nodes'] }]),
    ),
    ...(real
      ? {
          'kube-proxy': { user: 'system:kube-proxy', groups: [] },
          'kube-router': { user: NETWORK_POLICY_AGENT_USER, groups: [] },
        }
      : {}),
  });
  const processes: ClusterState['processes'] = [];

  const launch = (name: string, path: string, args: readonly string[], namespace?: string) => {
    const logFile = join(dir, 'logs', `${name}.log`);
    const out = openSync(logFile, 'a');
    // nsenter enters the node's network namespace only and then execs the binary, so the pid is the
    // binary's and it shares the host's mounts (the kubelet's volume mounts must be containerd's too).
    const [command, argv] = namespace ? ['nsenter', [`--net=${namespace}`, '--', path, ...args]] : [path, args];
    const child = spawn(command, argv, { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    if (!child.pid) throw new Error(`could not start ${name}`);
    processes.push({ name, pid: child.pid, bin: path });
    return logFile;
  };
  const saveState = async (state: Partial<ClusterState>) =>
    writeAtomic(join(dir, STATE_FILE), JSON.stringify({ dir, processes, realNodes, ...state }, null, 2));

  try {
    if (real) {
      log(`[cluster] creating the node network: bridge ${NODE_NETWORK.bridge}, ${realNodes.length} node namespaces`);
      await saveState({});
      createNodeNetwork(realNodes);
    }
    const [etcdPort, peerPort, apiPort, kcmPort, schedulerPort, kwokPort] = await Promise.all([
      freePort(),
      freePort(),
      real ? NODE_NETWORK.apiServerPort : freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    // With real nodes the API server listens on the bridge, where nodes and pods reach it.
    const address = real ? NODE_NETWORK.hostAddress : '127.0.0.1';
    const server = `https://${address}:${apiPort}`;
    const pki = join(dir, 'pki');
    const caFile = join(pki, 'apiserver.crt');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeAtomic(join(pki, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    await writeAtomic(join(pki, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }).toString());
    await writeAtomic(join(dir, 'tokens.csv'), tokenAuthFile(identities));
    const nodeCa = real ? createCertificateAuthority(join(pki, 'nodes'), 'plinth-local-nodes') : undefined;
    const kubeletClient = nodeCa
      ? signCertificate(nodeCa, join(pki, 'nodes'), {
          name: 'kubelet-client',
          commonName: KUBELET_CLIENT_USER,
          usage: 'client',
        })
      : undefined;

    // The API server's client certificate for aggregated APIs (the platform's logs API), and the CA
    // that those servers check it against, as kubeadm sets them up.
    const frontProxyCa = createCertificateAuthority(join(pki, 'front-proxy'), 'plinth-local-front-proxy');
    const frontProxyClient = signCertificate(frontProxyCa, join(pki, 'front-proxy'), {
      name: 'front-proxy-client',
      commonName: FRONT_PROXY_CLIENT,
      usage: 'client',
    });

    log(`[cluster] starting etcd on 127.0.0.1:${etcdPort}`);
    const etcdLog = launch('etcd', bin.etcd, [
      '--name=plinth',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=plinth=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync', // a throwaway test store: durability is not what is under test
      '--log-level=warn',
    ]);
    await saveState({});

    log(`[cluster] starting kube-apiserver on ${server}`);
    const apiLog = launch('kube-apiserver', bin['kube-apiserver'], [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--bind-address=${address}`,
      // Also the `kubernetes` Service's endpoint; its self-signed certificate names this address and
      // the Service's.
      `--advertise-address=${address}`,
      `--secure-port=${apiPort}`,
      `--cert-dir=${pki}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--service-cluster-ip-range=${NODE_NETWORK.serviceCidr}`,
      '--allow-privileged=false',
      '--profiling=false',
      '--max-requests-inflight=1000',
      '--max-mutating-requests-inflight=500',
      // What aggregated API servers need to trust the requests the API server forwards to them.
      `--requestheader-client-ca-file=${frontProxyCa.cert}`,
      `--requestheader-allowed-names=${FRONT_PROXY_CLIENT}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${frontProxyClient.cert}`,
      `--proxy-client-key-file=${frontProxyClient.key}`,
      ...(nodeCa && kubeletClient
        ? [
            // Webhooks (CloudNativePG's) are called at their pods' addresses, which the host routes
            // to; a Service's cluster IP exists only inside the nodes, where kube-proxy runs.
            '--enable-aggregator-routing=true',
            '--kubelet-preferred-address-types=InternalIP',
            `--kubelet-certificate-authority=${nodeCa.cert}`,
            `--kubelet-client-certificate=${kubeletClient.cert}`,
            `--kubelet-client-key=${kubeletClient.key}`,
          ]
        : []),
    ]);
    await saveState({});
    const admin = identities['admin'] as Identity;
    await waitFor('kube-apiserver to write its serving certificate', 60_000, () => existsSync(caFile)).catch(
      async (e: Error) => {
        throw new Error(
          `${e.message}\n--- kube-apiserver log ---\n${await tail(apiLog)}\n--- etcd log ---\n${await tail(etcdLog)}`,
        );
      },
    );
    const ca = await readFile(caFile);
    await waitFor(
      'kube-apiserver /readyz',
      60_000,
      async () => (await httpsStatus(`${server}/readyz`, ca, admin.token)) === 200,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n--- kube-apiserver log ---\n${await tail(apiLog)}`);
    });

    const kubeconfigs: Record<string, string> = {};
    for (const [name, identity] of Object.entries(identities)) {
      const path = join(dir, 'kubeconfigs', `${name}.yaml`);
      await writeAtomic(path, kubeconfigYaml(server, caFile, name, identity.token));
      kubeconfigs[name] = path;
    }
    const kubeconfig = join(dir, 'kubeconfig');
    await writeAtomic(kubeconfig, kubeconfigYaml(server, caFile, 'admin', admin.token));

    log('[cluster] starting kube-controller-manager, kube-scheduler and kwok');
    const kcm = kubeconfigs['kube-controller-manager'] as string;
    // Both components serve health and metrics on loopback, authenticating callers as themselves.
    const serving = (kubeconfig: string, port: number, certs: string) => [
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, certs)}`,
    ];
    launch('kube-controller-manager', bin['kube-controller-manager'], [
      `--kubeconfig=${kcm}`,
      ...serving(kcm, kcmPort, 'kcm-certs'),
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${caFile}`,
      '--cluster-name=plinth-local',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      '--concurrent-job-syncs=10',
      '--concurrent-gc-syncs=40',
      // A quota on Runs is counted only once a full quota sync finds the Run CRD (5 min by default);
      // until then quota admission refuses every Run. A short period makes a new cluster usable at once.
      '--resource-quota-sync-period=15s',
    ]);
    const schedulerConfig = join(dir, 'kube-scheduler.yaml');
    const schedulerKubeconfig = kubeconfigs['kube-scheduler'] as string;
    await writeAtomic(
      schedulerConfig,
      stringify({
        apiVersion: 'kubescheduler.config.k8s.io/v1',
        kind: 'KubeSchedulerConfiguration',
        // kube-scheduler ignores --kubeconfig when --config is given.
        clientConnection: { kubeconfig: schedulerKubeconfig, qps: 200, burst: 400 },
        leaderElection: { leaderElect: false },
      }),
    );
    launch('kube-scheduler', bin['kube-scheduler'], [
      `--config=${schedulerConfig}`,
      ...serving(schedulerKubeconfig, schedulerPort, 'scheduler-certs'),
    ]);
    const stagesFile = join(dir, 'kwok-stages.yaml');
    await writeAtomic(
      stagesFile,
      kwokStages({ jobDurationMs: options.jobDurationMs ?? 1000, podStartMs: options.podStartMs ?? 200 })
        .map((s) => stringify(s))
        .join('---\n'),
    );
    launch('kwok', bin.kwok, [
      `--kubeconfig=${kubeconfigs['kwok']}`,
      `--config=${stagesFile}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
      `--server-address=127.0.0.1:${kwokPort}`,
      '--cidr=10.64.0.1/16',
      '--node-lease-duration-seconds=40',
    ]);
    await saveState({});

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const realPools = new Set(realNodes.map((n) => n.pool));
    const nodes = simulatedNodes(config, options.nodesPerPool ?? 2).filter(
      (n) => !realPools.has(n.metadata?.labels?.[POOL_LABEL] ?? ''),
    );
    for (const node of nodes) await core.createNode({ body: node });
    log(`[cluster] created ${nodes.length} simulated nodes: ${nodes.map((n) => n.metadata?.name).join(', ')}`);

    if (real && nodeCa) {
      await startNodes({ real, realNodes, nodeCa, kubeconfigs, launch, config, log, dir, core, kc });
    }

    await waitFor('every node to be Ready', 120_000, async () => {
      const list = await core.listNode();
      return (
        list.items.length === nodes.length + realNodes.length &&
        list.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      );
    });
    // The ServiceAccount controller must be up before any pod can be admitted.
    await waitFor('kube-controller-manager to create the default ServiceAccount', 60_000, async () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }).then(
        () => true,
        () => false,
      ),
    );
    if (real) {
      await applyOrThrow(kc, clusterDns(real.images.dns, corePlacement(config)) as never[]);
      await waitFor('the cluster DNS to be ready', 120_000, async () => {
        const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
          namespace: 'kube-system',
          labelSelector: 'kubernetes.io/service-name=kube-dns',
        });
        return slices.items.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready));
      });
      const coreNodes = realNodes.filter((n) => config.nodePools[n.pool]?.role === 'core');
      await applyOrThrow(kc, localStorage(coreNodes) as never[]);
      log('[cluster] installing CloudNativePG');
      const operator = cloudNativePgInstall(bin.kubectl, real.images.cloudNativePg, corePlacement(config));
      await installCrds(
        kc,
        operator.filter((o) => o.kind === 'CustomResourceDefinition'),
      );
      await applyOrThrow(kc, operator.filter((o) => o.kind !== 'CustomResourceDefinition') as never[]);
      await waitForDeploymentAvailable(kc, CLOUDNATIVE_PG_NAMESPACE, CLOUDNATIVE_PG_DEPLOYMENT, 120_000);
    }

    const readyMs = Math.round(performance.now() - started);
    const state: ClusterState = {
      dir,
      server,
      caFile,
      kubeconfig,
      kubeconfigs,
      identities: Object.fromEntries(
        Object.entries(identities).map(([k, v]) => [k, { user: v.user, groups: v.groups }]),
      ),
      binDirs: [...new Set([bin.kubectl, bin['kube-apiserver']].map((b) => dirname(b)))],
      processes,
      nodes: [...realNodes.map((n) => n.name), ...nodes.map((n) => n.metadata?.name ?? '')],
      realNodes,
      readyMs,
    };
    await writeAtomic(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
    log(
      `[cluster] ready in ${(readyMs / 1000).toFixed(1)}s: ${realNodes.length} real and ${nodes.length} simulated nodes, API at ${server}`,
    );
    return state;
  } catch (error) {
    await stopEverything(processes, realNodes, dir);
    throw error;
  }
}

interface NodeStart {
  readonly real: RealNodeOptions;
  readonly realNodes: readonly RealNode[];
  readonly nodeCa: ReturnType<typeof createCertificateAuthority>;
  readonly kubeconfigs: Record<string, string>;
  readonly launch: (name: string, path: string, args: readonly string[], namespace?: string) => string;
  readonly config: ReturnType<typeof validatePlatformConfig>;
  readonly log: (line: string) => void;
  readonly dir: string;
  readonly core: CoreV1Api;
  readonly kc: KubeConfig;
}

/** containerd 1.6's last log line before its CRI service answers. */
const CRI_READY_LINE = 'msg="Start streaming server"';

/**
 * containerd first, with every image imported (from the cache after the first start), then the
 * node agents; each node registers itself, and the harness labels it and gives it its pod range.
 */
async function startNodes(s: NodeStart): Promise<void> {
  await applyOrThrow(s.kc, nodeAgentPermissions() as never[]);
  const containerd = onPath('containerd');
  if (!containerd) throw new Error('containerd is not installed: apt-get install containerd');
  const context = {
    config: s.config,
    nodes: s.realNodes,
    ca: s.nodeCa,
    kubeconfigs: s.kubeconfigs,
    binaries: s.real.binaries,
    pauseImage: s.real.images.pause,
  };
  const policyAgents = await Promise.all(
    s.realNodes.map(async (node) => {
      const { containerd: daemon, agents, networkPolicyAgent } = prepareNode(context, node, containerd);
      const namespace = namespacePath(node);
      const [path, ...args] = daemon.argv;
      s.launch(daemon.name, path, args, namespace);
      await waitFor(`${node.name}'s containerd socket`, 30_000, () => existsSync(node.containerdSocket));
      // containerd's CRI service answers only once it has recovered its state, a moment after the
      // socket exists (220 ms measured here): a kubelet that asks before then exits ("server is not
      // initialized yet"), which once failed a CI run. It logs this line just before it answers.
      const daemonLog = join(s.dir, 'logs', `${daemon.name}.log`);
      await waitFor(`${node.name}'s CRI service`, 30_000, () =>
        readFile(daemonLog, 'utf8').then(
          (text) => text.includes(CRI_READY_LINE),
          () => false,
        ),
      );
      // Images go in before the kubelet starts, so no pod waits on a missing image.
      const role = s.config.nodePools[node.pool]?.role === 'core' ? 'core' : 'runs';
      const archives = s.real.images.archives.filter((a) => a.nodes === 'all' || a.nodes === role);
      await importImages(node, archives, s.log);
      for (const agent of agents) {
        const [agentPath, ...agentArgs] = agent.argv;
        s.launch(agent.name, agentPath, agentArgs, namespace);
      }
      return { node, agent: networkPolicyAgent, namespace };
    }),
  );
  s.log(`[cluster] started ${s.realNodes.length} real nodes: ${s.realNodes.map((n) => n.name).join(', ')}`);
  for (const node of s.realNodes) {
    await waitFor(`real node ${node.name} to register`, 60_000, () =>
      s.core.readNode({ name: node.name }).then(
        () => true,
        () => false,
      ),
    ).catch(async (e: Error) => {
      throw new Error(
        `${e.message}\n--- kubelet log ---\n${await tail(join(s.dir, 'logs', `${node.name}-kubelet.log`))}`,
      );
    });
    await s.core.patchNode(
      { name: node.name, body: nodePatch(node, s.config) },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
  for (const { agent, namespace } of policyAgents) {
    const [path, ...args] = agent.argv;
    s.launch(agent.name, path, args, namespace);
  }
}

async function stopProcesses(processes: ClusterState['processes']): Promise<void> {
  // Reverse start order: nodes and controllers first, etcd last.
  for (const p of [...processes].reverse()) {
    if (processAlive(p.pid, p.bin)) process.kill(p.pid, 'SIGTERM');
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && processes.some((p) => processAlive(p.pid, p.bin))) await sleep(100);
  for (const p of processes) {
    if (processAlive(p.pid, p.bin)) process.kill(p.pid, 'SIGKILL');
  }
}

const isContainerd = (p: ClusterState['processes'][number]) => p.name.endsWith('-containerd');

/**
 * Everything a cluster started, in an order that leaves nothing behind: the node agents and the
 * control plane, then each node's containers (through its containerd, still running), then
 * containerd and its shims, then every mount under the nodes' folders, then the node network.
 */
async function stopEverything(processes: ClusterState['processes'], realNodes: readonly RealNode[], dir: string) {
  await stopProcesses(processes.filter((p) => !isContainerd(p)));
  for (const node of realNodes) killNodeContainers(node);
  const shims = realNodes.flatMap((node) => shimPids(node));
  await stopProcesses(processes.filter(isContainerd));
  for (const pid of shims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone with its containerd.
    }
  }
  removeNodeFilesOutsideItsFolder(realNodes);
  const problems = [
    ...unmountAll([join(dir, 'nodes'), ...realNodes.map((n) => n.imageRoot)]),
    ...removeNodeNetwork(realNodes),
  ];
  if (problems.length > 0) throw new Error(`the cluster in ${dir} was not fully removed:\n${problems.join('\n')}`);
}

/** Last resort for a test runner that exits without its teardown: SIGKILL, synchronously. */
export function killClusterSync(dir: string): void {
  const state = readClusterState(dir);
  for (const p of state?.processes ?? []) {
    if (processAlive(p.pid, p.bin)) process.kill(p.pid, 'SIGKILL');
  }
  for (const node of state?.realNodes ?? []) for (const pid of shimPids(node)) process.kill(pid, 'SIGKILL');
}

/**
 * Stops every process the cluster in `dir` started and removes its state, mounts and network.
 * Safe when nothing runs.
 */
export async function stopCluster(dir: string): Promise<void> {
  const state = readClusterState(dir);
  if (state) await stopEverything(state.processes, state.realNodes ?? [], dir);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Removes the node network of a real cluster whose state was lost (its folder removed by hand),
 * which `up` refuses to start beside. Only for a machine where no real cluster runs.
 */
export function removeLeftoverNodeNetwork(): string[] {
  const config = validatePlatformConfig('local', environments['local']);
  return removeNodeNetwork(nodeAddresses(realNodePlan(config).map((n) => n.name)));
}
