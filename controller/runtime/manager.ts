import { setTimeout as delay } from 'node:timers/promises';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { LeaderElector } from './leader-election.js';
import { SharedInformer, type InformerKey, type SharedCache } from './shared-informer.js';

/**
 * What the manager starts once it leads and its informers are synced, and stops before them: a
 * controller loop, say. A start and a stop, rather than a start that watches an abort signal, so
 * that a controller's shutdown is one call, and the manager can wait for the work in flight, which
 * reads the informers, before it stops them.
 */
export interface Runnable {
  /** Names it in the manager's logs. */
  readonly name: string;
  /** Starts its work; resolves once that work has ended, which for a controller is after `stop`. */
  start(): Promise<void>;
  /** Stops taking new work. The manager then waits for `start` to resolve: for the work in flight. */
  stop(): Promise<void>;
}

export interface ManagerOptions {
  readonly log: Logger;
  /**
   * The lease to hold before anything starts, so that one replica reconciles at a time; without
   * one (a single replica, a test) the manager starts at once.
   */
  readonly leaderElector?: LeaderElector;
  /** How long stopping waits for the runnables' work in flight before it stops the informers anyway. */
  readonly gracefulShutdownMs?: number;
  /** How long `waitForSync` waits for an informer to list before it fails. */
  readonly syncTimeoutMs?: number;
}

/** How a manager's run ended: stopped when asked, or by losing its lease, which a process exits 1 for. */
export type ManagerEnd = 'stopped' | 'lease lost';

/**
 * Within the kubelet's default grace period of 30 s, so that the lease is still handed over when a
 * reconcile hangs.
 */
const GRACEFUL_SHUTDOWN_MS = 20_000;
/**
 * A reconcile that waits for an informer started on first use gives up after this, and is retried
 * with backoff: a watch that keeps failing (a missing permission, say) must not hold a worker.
 */
const SYNC_TIMEOUT_MS = 10_000;

/**
 * What runs the controllers of a process, as controller-runtime's Manager does: it owns the shared
 * informers, the lease and the order of things. Once it leads, it starts the informers, waits until
 * every one has listed, and only then starts the runnables, so that no reconcile reads a cache that
 * is still filling. It stops in the reverse order: the runnables first, letting the work in flight
 * finish against live caches, then the informers, then it hands the lease over.
 */
export class Manager {
  /** The informers by what they watch (path and selectors), then by transform. */
  private readonly informers = new Map<string, Map<unknown, SharedInformer<KubernetesObject>>>();
  /** The informers started with the manager; the others wait for their first `waitForSync`. */
  private readonly eager = new Set<SharedInformer<KubernetesObject>>();
  private readonly runnables: Runnable[] = [];
  /** Each runnable started, with its work: settled once it has ended, whether it failed or not. */
  private readonly running = new Map<Runnable, Promise<void>>();
  private readonly elector: LeaderElector | undefined;
  /** Aborted to stop waiting for the lease, and later to stop renewing it. */
  private readonly electing = new AbortController();
  private acquiring: Promise<boolean> = Promise.resolve(false);
  private started = false;
  private informersStarted = false;
  private runnablesStarted = false;
  private synced = false;
  private stopRequested = false;
  private stopping: Promise<void> | undefined;
  /** Rejects once a stop is asked for, so that a wait for an informer ends with it. */
  private readonly stopAsked: Promise<never>;
  private askStop: (error: Error) => void = () => undefined;
  private readonly stopped: Promise<void>;
  private markStopped: () => void = () => undefined;
  private end: ManagerEnd = 'stopped';
  private failure: { readonly error: unknown } | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: ManagerOptions,
  ) {
    this.elector = options.leaderElector;
    this.stopAsked = new Promise<never>((_, reject) => (this.askStop = reject));
    this.stopAsked.catch(() => undefined);
    this.stopped = new Promise<void>((resolve) => (this.markStopped = resolve));
  }

  private get log(): Logger {
    return this.options.log;
  }

  /**
   * The shared informer of a watch: the same object for every request with an equal key. It starts
   * with the manager, or at once if the manager has already started its informers; a `lazy` one
   * waits for its first `waitForSync`, so that a watch nobody needs yet is never opened. A lazy
   * request of an informer someone else wants started changes nothing.
   */
  informer<T extends KubernetesObject>(key: InformerKey<T>, options: { lazy?: boolean } = {}): SharedCache<T> {
    const watch = JSON.stringify([key.path, key.labelSelector ?? '', key.fieldSelector ?? '']);
    const byTransform = this.informers.get(watch) ?? new Map<unknown, SharedInformer<KubernetesObject>>();
    this.informers.set(watch, byTransform);
    let informer = byTransform.get(key.transform);
    if (!informer) {
      informer = new SharedInformer<T>(this.kc, key, this.log) as unknown as SharedInformer<KubernetesObject>;
      byTransform.set(key.transform, informer);
    }
    if (!options.lazy) this.startWithManager(informer);
    return informer as unknown as SharedCache<T>;
  }

  private allInformers(): SharedInformer<KubernetesObject>[] {
    return [...this.informers.values()].flatMap((byTransform) => [...byTransform.values()]);
  }

  private startWithManager(informer: SharedInformer<KubernetesObject>): void {
    this.eager.add(informer);
    if (this.informersStarted && !this.stopRequested) void informer.start();
  }

  /**
   * Resolves once the informer has listed, starting it if it is lazy; fails if that takes longer
   * than the sync timeout, or once the manager is asked to stop.
   */
  async waitForSync<T extends KubernetesObject>(cache: SharedCache<T>): Promise<void> {
    const informer = this.allInformers().find((i) => i === (cache as unknown));
    if (!informer) throw new Error('not an informer of this manager: ask the manager for it');
    if (informer.hasSynced) return;
    if (this.stopRequested) throw new Error('the manager is stopping');
    this.startWithManager(informer);
    const timeoutMs = this.options.syncTimeoutMs ?? SYNC_TIMEOUT_MS;
    const timeout = new AbortController();
    try {
      await Promise.race([
        informer.whenSynced(),
        this.stopAsked,
        delay(timeoutMs, undefined, { signal: timeout.signal }).then(() => {
          throw new Error(`the informer of ${informer.key.path} has not listed within ${timeoutMs / 1000} s`);
        }),
      ]);
    } finally {
      timeout.abort();
    }
  }

  /** Adds a runnable: it starts once the informers are synced, or at once if they already are. */
  add(runnable: Runnable): void {
    this.runnables.push(runnable);
    if (this.runnablesStarted && !this.stopRequested) this.run(runnable);
  }

  /**
   * Ready as the kubelet asks: a standby replica is (it is healthy, only not leading); the leader
   * once every informer started with the manager has listed.
   */
  get isReady(): boolean {
    if (this.elector && !this.elector.isLeader) return true;
    return this.synced;
  }

  /**
   * Waits for the lease, then runs `setUp` (where controllers are built, ask for their informers and
   * add themselves, and read what only the leader needs, so that a standby reads nothing), starts
   * the informers, waits until they have listed, and starts the runnables. Resolves once the
   * manager has stopped, saying why; rejects, after stopping, if setting up or a runnable failed.
   */
  async start(setUp: () => Promise<void> | void = () => undefined): Promise<ManagerEnd> {
    if (this.started) throw new Error('a manager starts once');
    this.started = true;
    try {
      if (this.elector && !this.stopRequested) {
        this.acquiring = this.elector.acquire(this.electing.signal, () => this.leaseLost());
        await this.acquiring;
      }
      if (!this.stopRequested) await setUp();
      if (!this.stopRequested) await this.startInformers();
      if (!this.stopRequested) {
        this.runnablesStarted = true;
        this.runnables.forEach((runnable) => this.run(runnable));
      }
    } catch (error) {
      // Informers stopped while they list fail their wait: that is the stop, not a failure.
      if (!this.stopRequested) this.fail(error, 'start-up failed');
    }
    await this.stopped;
    if (this.failure) throw this.failure.error;
    return this.end;
  }

  private async startInformers(): Promise<void> {
    this.informersStarted = true;
    await Promise.all([...this.eager].map((informer) => informer.start()));
    this.synced = true;
  }

  private run(runnable: Runnable): void {
    const work = (async () => runnable.start())().then(
      () => undefined,
      (error: unknown) => this.fail(error, `${runnable.name} failed`),
    );
    this.running.set(runnable, work);
  }

  private fail(error: unknown, reason: string): void {
    if (this.stopRequested) {
      this.log.error({ err: error }, `${reason} while stopping`);
      return;
    }
    this.failure = { error };
    void this.stop(reason);
  }

  private leaseLost(): void {
    if (!this.stopRequested) this.end = 'lease lost';
    void this.stop('lease lost');
  }

  /**
   * Stops the runnables, waiting for their work in flight (up to the graceful shutdown time), then
   * the informers, then gives the lease up. Asking again returns the same stop.
   */
  stop(reason: string): Promise<void> {
    if (!this.stopping) {
      this.stopRequested = true;
      this.stopping = this.shutDown(reason);
    }
    return this.stopping;
  }

  private async shutDown(reason: string): Promise<void> {
    this.log.info({ signal: reason }, 'shutting down');
    this.askStop(new Error('the manager is stopping'));
    // A replica still waiting for the lease stops waiting; the leader keeps renewing it until its
    // work is done, so that no other replica starts meanwhile.
    if (!this.elector?.isLeader) this.electing.abort();
    await this.stopRunnables();
    await Promise.all(this.allInformers().map((informer) => informer.stop()));
    this.electing.abort();
    // A lease acquired just as the stop began is given up too.
    await this.acquiring;
    await this.elector?.release();
    this.markStopped();
  }

  private async stopRunnables(): Promise<void> {
    const running = [...this.running];
    const done = Promise.all(
      running.map(async ([runnable, work]) => {
        try {
          await runnable.stop();
        } catch (error) {
          this.log.error({ err: error, runnable: runnable.name }, 'stopping failed');
        }
        await work;
      }),
    );
    const graceMs = this.options.gracefulShutdownMs ?? GRACEFUL_SHUTDOWN_MS;
    const inTime = await Promise.race([done.then(() => true), delay(graceMs, false, { ref: false })]);
    if (!inTime) {
      this.log.warn(
        { runnables: running.map(([r]) => r.name) },
        'work in flight did not finish in time; stopping anyway',
      );
    }
  }
}
