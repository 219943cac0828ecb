import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api, CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { LeaderElector } from '../../controller/runtime/leader-election.js';
import { createLogger } from '../../controller/runtime/log.js';
import { Manager, type Runnable } from '../../controller/runtime/manager.js';
import { MicroTime } from '../../controller/runtime/micro-time.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';

/**
 * The manager against the API server: it leads before it lists, lists before it starts its
 * runnables, and stops them while its informers still serve and its lease is still held.
 */
const NAMESPACE = 'default';
const LABEL = 'plinth.dev/test';
const CONFIG_MAPS = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const admin = () => kubeConfigAs('admin');
const core = () => admin().makeApiClient(CoreV1Api);
const leases = () => admin().makeApiClient(CoordinationV1Api);

async function createConfigMap(name: string, label: string): Promise<void> {
  await core().createNamespacedConfigMap({
    namespace: NAMESPACE,
    body: { metadata: { name, labels: { [LABEL]: label } } },
  });
}

async function holderOf(lease: string): Promise<string | undefined> {
  return (await leases().readNamespacedLease({ name: lease, namespace: NAMESPACE })).spec?.holderIdentity;
}

/** A manager leading `lease` as `identity`, renewing every 200 ms, its logs kept as objects. */
function managerOn(lease: string, identity: string) {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('test', { destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  const elector = new LeaderElector(
    admin(),
    { namespace: NAMESPACE, name: lease, identity, leaseDurationSeconds: 2, renewIntervalMs: 200 },
    log,
  );
  return { manager: new Manager(admin(), { log, leaderElector: elector }), elector, logs };
}

/** A runnable whose start and stop run the given checks, and whose work ends when it is stopped. */
function runnable(checks: { started?: () => void | Promise<void>; stopping?: () => Promise<void> }) {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const state = { started: false, stopped: false };
  const r: Runnable = {
    name: 'probe',
    async start() {
      state.started = true;
      await checks.started?.();
      await stopped;
    },
    async stop() {
      await checks.stopping?.();
      state.stopped = true;
      stop();
    },
  };
  return { runnable: r, state };
}

const names = ['manager-listed', 'manager-while-stopping', 'manager-late'];
const leaseNames = ['manager-order', 'manager-standby', 'manager-lost'];

async function cleanUp(): Promise<void> {
  for (const name of names)
    await core()
      .deleteNamespacedConfigMap({ name, namespace: NAMESPACE })
      .catch(() => undefined);
  for (const name of leaseNames)
    await leases()
      .deleteNamespacedLease({ name, namespace: NAMESPACE })
      .catch(() => undefined);
}

beforeAll(cleanUp);
afterAll(cleanUp);

describe('the manager', () => {
  it('leads, lists, then starts; stops its runnables while its informers serve and its lease is held', async () => {
    await createConfigMap('manager-listed', 'manager-order');
    const { manager, elector } = managerOn('manager-order', 'first');
    const selector = `${LABEL}=manager-order`;
    const seen: string[] = [];
    let cache = manager.informer<V1ConfigMap>({ path: CONFIG_MAPS, labelSelector: selector });
    let lazy = manager.informer<V1ConfigMap>({ path: CONFIG_MAPS, labelSelector: `${LABEL}=none` }, { lazy: true });
    const atStart: Record<string, unknown> = {};
    const atStop: Record<string, unknown> = {};
    const probe = runnable({
      started: () => {
        atStart['leading'] = elector.isLeader;
        atStart['ready'] = manager.isReady;
        atStart['listed'] = cache.get('manager-listed', NAMESPACE) !== undefined;
        atStart['lazy listed'] = lazy.hasSynced;
        // A handler added after the informer has listed hears what it holds, as added.
        cache.on('add', (c) => seen.push(c.metadata?.name ?? ''));
      },
      stopping: async () => {
        await createConfigMap('manager-while-stopping', 'manager-order');
        await eventually('the informer to hear of the new ConfigMap while the runnable stops', async () =>
          cache.get('manager-while-stopping', NAMESPACE) ? true : undefined,
        );
        atStop['holder'] = await holderOf('manager-order');
      },
    });
    const ended = manager.start(() => manager.add(probe.runnable));
    await eventually('the runnable to start', async () => (probe.state.started ? true : undefined));
    expect(atStart).toEqual({ leading: true, ready: true, listed: true, 'lazy listed': false });
    expect(seen).toEqual(['manager-listed']);

    // Asked for after the start, an informer starts at once, and is the one already made.
    const late = manager.informer<V1ConfigMap>({ path: CONFIG_MAPS, labelSelector: `${LABEL}=manager-late` });
    await createConfigMap('manager-late', 'manager-late');
    await eventually('the late informer to list', async () => (late.get('manager-late', NAMESPACE) ? true : undefined));
    cache = manager.informer<V1ConfigMap>({ path: CONFIG_MAPS, labelSelector: selector });
    lazy = manager.informer<V1ConfigMap>({ path: CONFIG_MAPS, labelSelector: `${LABEL}=none` }, { lazy: true });
    await manager.waitForSync(lazy);
    expect(lazy.hasSynced).toBe(true);

    await manager.stop('SIGTERM');
    await expect(ended).resolves.toBe('stopped');
    expect(atStop).toEqual({ holder: 'first' });
    expect(seen).toEqual(['manager-listed', 'manager-while-stopping']);
    // Handed over at once, not left to expire.
    expect(await holderOf('manager-order')).toBeUndefined();
  });

  it('keeps a standby ready and idle until the leader hands the lease over', async () => {
    const first = managerOn('manager-standby', 'first');
    const firstProbe = runnable({});
    const firstEnded = first.manager.start(() => first.manager.add(firstProbe.runnable));
    await eventually('the first to start', async () => (firstProbe.state.started ? true : undefined));

    const second = managerOn('manager-standby', 'second');
    const secondProbe = runnable({});
    let setUp = false;
    const secondEnded = second.manager.start(() => {
      setUp = true;
      second.manager.add(secondProbe.runnable);
    });
    // Some renewals of the first go by: the second keeps waiting, ready, and has set nothing up.
    await new Promise((r) => setTimeout(r, 1000));
    expect(second.elector.isLeader).toBe(false);
    expect(second.manager.isReady).toBe(true);
    expect(setUp).toBe(false);

    await first.manager.stop('SIGTERM');
    await expect(firstEnded).resolves.toBe('stopped');
    await eventually('the second to take over', async () => (secondProbe.state.started ? true : undefined), 10_000);
    expect(await holderOf('manager-standby')).toBe('second');
    await second.manager.stop('SIGTERM');
    await expect(secondEnded).resolves.toBe('stopped');
  });

  it('stops its runnables and ends as "lease lost" when another holder takes the lease', async () => {
    const { manager, logs } = managerOn('manager-lost', 'first');
    const probe = runnable({});
    const ended = manager.start(() => manager.add(probe.runnable));
    await eventually('the runnable to start', async () => (probe.state.started ? true : undefined));

    // A renewal between the read and the write makes the write conflict: then it is tried again.
    await eventually('the lease to be taken', async () => {
      const lease = await leases().readNamespacedLease({ name: 'manager-lost', namespace: NAMESPACE });
      lease.spec = { ...lease.spec, holderIdentity: 'usurper', renewTime: new MicroTime(), leaseDurationSeconds: 60 };
      return leases().replaceNamespacedLease({ name: 'manager-lost', namespace: NAMESPACE, body: lease });
    });

    await expect(ended).resolves.toBe('lease lost');
    expect(probe.state.stopped).toBe(true);
    expect(logs.map((l) => l['msg'])).toEqual(expect.arrayContaining(['lost leadership', 'shutting down']));
    // The lease is the usurper's: a manager that lost it does not give it away.
    expect(await holderOf('manager-lost')).toBe('usurper');
  });
});
