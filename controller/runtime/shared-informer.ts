import type { KubeConfig, KubernetesObject, ListWatch, ObjectCache, ObjectCallback } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { makeStreamingInformer, type Transform } from './streaming-watch.js';

/**
 * What an informer watches and what it keeps: two requests with equal keys share one informer, as
 * controllers share controller-runtime's cache. The transform is compared by identity, since two
 * different trims of the same watch must not read each other's cache.
 */
export interface InformerKey<T extends KubernetesObject> {
  /** The REST path of the collection, cluster-wide or of one namespace. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly transform?: Transform<T>;
}

/** The events a controller may hear from a shared informer. */
export type ObjectEvent = 'add' | 'update' | 'delete';

/**
 * What a controller sees of a shared informer: the cache and its events. Starting, restarting and
 * stopping it is the manager's, since other controllers may be reading it.
 */
export interface SharedCache<T extends KubernetesObject> extends ObjectCache<T> {
  /**
   * Adds a handler. An `add` handler hears every object already cached, as added, as client-go's
   * shared informers do: a controller that starts after the informer has listed misses nothing.
   */
  on(event: ObjectEvent, handler: ObjectCallback<T>): void;
  off(event: ObjectEvent, handler: ObjectCallback<T>): void;
  /** Whether the informer has listed once: its cache then holds what the API server held. */
  readonly hasSynced: boolean;
}

/** As controller-runtime's informers back off before watching again after a failure. */
const RESTART_DELAY_MS = 1000;

/**
 * One informer, shared by every controller that reads its watch, and started and stopped only by
 * the manager. A failed list or watch is retried after a pause, for as long as it runs.
 */
export class SharedInformer<T extends KubernetesObject> implements SharedCache<T> {
  private readonly informer: ListWatch<T>;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private restart: NodeJS.Timeout | undefined;
  private synced = false;
  private readonly listed: Promise<void>;
  private markListed: () => void = () => undefined;
  private abandonListing: (error: Error) => void = () => undefined;

  constructor(
    kc: KubeConfig,
    readonly key: InformerKey<T>,
    private readonly log: Logger,
  ) {
    const { path, labelSelector, fieldSelector, transform } = key;
    this.informer = makeStreamingInformer<T>(kc, path, { labelSelector, fieldSelector, transform });
    this.listed = new Promise<void>((resolve, reject) => {
      this.markListed = resolve;
      this.abandonListing = reject;
    });
    // Nobody may be waiting when it is stopped before it has listed: that is no failure of its own.
    this.listed.catch(() => undefined);
    this.informer.on('error', (err: unknown) => {
      if (this.state !== 'running') return;
      this.log.warn({ err, path: key.path }, 'watch failed; restarting it');
      this.restart = setTimeout(() => void this.listAndWatch(), RESTART_DELAY_MS);
    });
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  on(event: ObjectEvent, handler: ObjectCallback<T>): void {
    if (event === 'add') this.informer.list().forEach((object) => handler(object));
    this.informer.on(event, handler);
  }

  off(event: ObjectEvent, handler: ObjectCallback<T>): void {
    this.informer.off(event, handler);
  }

  /** Resolves once it has listed; rejects if it is stopped first. Waiting does not start it. */
  whenSynced(): Promise<void> {
    return this.listed;
  }

  /** Lists, then watches; resolves once it has listed (whenSynced). Starting it again only waits. */
  start(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'running';
      void this.listAndWatch();
    }
    return this.listed;
  }

  private async listAndWatch(): Promise<void> {
    await this.informer.start();
    // ListWatch opens its watch after listing even if it was stopped meanwhile: that watch is closed.
    if (this.state === 'stopped') return this.informer.stop();
    // ListWatch reports a failed list as an error and resolves anyway: only a listed informer has
    // a resourceVersion.
    if (this.informer.latestResourceVersion() !== '' && !this.synced) {
      this.synced = true;
      this.markListed();
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.restart);
    this.abandonListing(new Error(`the informer of ${this.key.path} was stopped before it had listed`));
    await this.informer.stop();
  }
}
