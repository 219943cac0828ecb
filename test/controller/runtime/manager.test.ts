import { describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { stripManagedFields, trimPod } from '../../../controller/runtime/cache-trim.js';
import { createLogger } from '../../../controller/runtime/log.js';
import { Manager, type ManagerOptions, type Runnable } from '../../../controller/runtime/manager.js';

/**
 * The manager without an API server: informer sharing needs none, and neither does the order in
 * which runnables start and stop. An informer that lists against a real API server is covered by
 * test/cluster/runtime-manager.test.ts.
 */

/** A port nothing listens on: an informer started against it fails to list, again and again. */
function unreachable(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'none', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'u' }],
    currentContext: 'none',
  });
  return kc;
}

function manager(options: Partial<ManagerOptions> = {}) {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('test', { destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  return { manager: new Manager(unreachable(), { log, ...options }), logs };
}

const pods = { path: '/api/v1/pods', labelSelector: 'plinth.dev/run', transform: trimPod };

/**
 * A runnable that writes what happens to it into `steps`; once stopped, its work in flight takes
 * `finishMs` more to end, or never ends.
 */
function runnable(name: string, steps: string[], options: { finishMs?: number; failWith?: Error } = {}): Runnable {
  let stopped: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (stopped = resolve));
  return {
    name,
    async start() {
      steps.push(`${name} started`);
      if (options.failWith) throw options.failWith;
      await stopping;
      if (options.finishMs === undefined) return new Promise<void>(() => undefined);
      await new Promise((r) => setTimeout(r, options.finishMs));
      steps.push(`${name} finished its work`);
    },
    async stop() {
      steps.push(`${name} stopping`);
      stopped();
    },
  };
}

/** Resolves once `check` holds, polling; fails the test after five seconds. */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 5000) throw new Error('condition not met within five seconds');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the manager's informers", () => {
  it('are one informer for every request of the same watch, however it is written', () => {
    const { manager: m } = manager();
    const first = m.informer({ ...pods });
    expect(m.informer({ ...pods })).toBe(first);
    expect(m.informer({ ...pods }, { lazy: true })).toBe(first);
  });

  it('are another informer for another path, selector or transform', () => {
    const { manager: m } = manager();
    const first = m.informer(pods);
    const others = [
      m.informer({ ...pods, path: '/api/v1/namespaces/plinth/pods' }),
      m.informer({ ...pods, labelSelector: 'plinth.dev/team' }),
      m.informer({ ...pods, fieldSelector: 'spec.nodeName=node-1' }),
      m.informer({ ...pods, transform: stripManagedFields }),
      m.informer({ ...pods, transform: undefined }),
    ];
    expect(new Set([first, ...others]).size).toBe(6);
  });

  it('refuse to wait for an informer the manager did not make', async () => {
    const { manager: m } = manager();
    const stranger = manager().manager.informer(pods);
    await expect(m.waitForSync(stranger)).rejects.toThrow(/not an informer of this manager/);
  });
});

describe("the manager's start and stop order", () => {
  it('sets up, starts the runnables, and stops them, waiting for their work in flight', async () => {
    const { manager: m } = manager();
    const steps: string[] = [];
    expect(m.isReady).toBe(false);
    const ended = m.start(() => {
      steps.push('set up');
      m.add(runnable('a', steps, { finishMs: 20 }));
      m.add(runnable('b', steps, { finishMs: 0 }));
    });
    await until(() => steps.length === 3);
    expect(steps).toEqual(['set up', 'a started', 'b started']);
    // No informer to wait for: ready as soon as the runnables start.
    expect(m.isReady).toBe(true);

    await m.stop('test');
    expect(steps.slice(3).sort()).toEqual(['a finished its work', 'a stopping', 'b finished its work', 'b stopping']);
    // The manager stopped only once both had finished: a's work, the slower, ended last.
    expect(steps.at(-1)).toBe('a finished its work');
    await expect(ended).resolves.toBe('stopped');
  });

  it('starts no runnable while an informer it starts with has not listed, and is not ready meanwhile', async () => {
    const { manager: m, logs } = manager();
    const steps: string[] = [];
    const ended = m.start(() => {
      m.informer(pods);
      m.add(runnable('a', steps, { finishMs: 0 }));
    });
    // The informer cannot reach an API server: it fails, is restarted, and fails again.
    await until(() => logs.filter((l) => l['msg'] === 'watch failed; restarting it').length >= 2);
    expect(steps).toEqual([]);
    expect(m.isReady).toBe(false);
    await m.stop('test');
    await expect(ended).resolves.toBe('stopped');
    expect(steps).toEqual([]);
  });

  it('does not hold the runnables back for a lazy informer, which starts with its first wait', async () => {
    const { manager: m, logs } = manager({ syncTimeoutMs: 300 });
    const steps: string[] = [];
    const lazy = m.informer(pods, { lazy: true });
    const ended = m.start(() => m.add(runnable('a', steps, { finishMs: 0 })));
    await until(() => steps.includes('a started'));
    expect(logs.filter((l) => l['msg'] === 'watch failed; restarting it')).toEqual([]);

    // Waited for, it starts; an API server out of reach makes the wait fail, not hang.
    await expect(m.waitForSync(lazy)).rejects.toThrow('the informer of /api/v1/pods has not listed within 0.3 s');
    expect(logs.filter((l) => l['msg'] === 'watch failed; restarting it').length).toBeGreaterThan(0);
    await m.stop('test');
    await ended;
  });

  it('ends a wait for an informer when asked to stop, so that no reconcile holds the stop up', async () => {
    const { manager: m } = manager();
    const steps: string[] = [];
    const lazy = m.informer(pods, { lazy: true });
    const ended = m.start(() => m.add(runnable('a', steps, { finishMs: 0 })));
    await until(() => steps.includes('a started'));
    const waiting = m.waitForSync(lazy);
    const stopped = m.stop('test');
    await expect(waiting).rejects.toThrow('the manager is stopping');
    await stopped;
    await expect(m.waitForSync(lazy)).rejects.toThrow('the manager is stopping');
    await expect(ended).resolves.toBe('stopped');
  });

  it('starts a runnable added after the others have started at once', async () => {
    const { manager: m } = manager();
    const steps: string[] = [];
    const ended = m.start(() => m.add(runnable('a', steps, { finishMs: 0 })));
    await until(() => steps.includes('a started'));
    m.add(runnable('late', steps, { finishMs: 0 }));
    expect(steps).toEqual(['a started', 'late started']);
    await m.stop('test');
    await ended;
    expect(steps).toContain('late finished its work');
  });

  it('stops everything and fails when a runnable fails', async () => {
    const { manager: m, logs } = manager();
    const steps: string[] = [];
    const failure = new Error('the work queue broke');
    const ended = m.start(() => {
      m.add(runnable('a', steps, { finishMs: 0 }));
      m.add(runnable('b', steps, { failWith: failure }));
    });
    await expect(ended).rejects.toBe(failure);
    expect(steps).toEqual(['a started', 'b started', 'a stopping', 'b stopping', 'a finished its work']);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'shutting down', signal: 'b failed' }));
  });

  it('stops everything and fails when setting up fails, starting no runnable', async () => {
    const { manager: m } = manager();
    const steps: string[] = [];
    const ended = m.start(async () => {
      m.add(runnable('a', steps, { finishMs: 0 }));
      throw new Error('the ConfigMap does not match its schema');
    });
    await expect(ended).rejects.toThrow('the ConfigMap does not match its schema');
    expect(steps).toEqual([]);
  });

  it('stops the informers anyway once work in flight outlasts the graceful shutdown time', async () => {
    const { manager: m, logs } = manager({ gracefulShutdownMs: 50 });
    const steps: string[] = [];
    const ended = m.start(() => m.add(runnable('stuck', steps)));
    await until(() => steps.includes('stuck started'));
    await m.stop('test');
    await expect(ended).resolves.toBe('stopped');
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'work in flight did not finish in time; stopping anyway' }),
    );
  });

  it('starts nothing when stopped before it started', async () => {
    const { manager: m } = manager();
    const steps: string[] = [];
    await m.stop('SIGTERM');
    await expect(
      m.start(() => {
        steps.push('set up');
      }),
    ).resolves.toBe('stopped');
    expect(steps).toEqual([]);
  });
});
