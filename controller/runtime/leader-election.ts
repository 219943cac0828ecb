import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { MicroTime } from './micro-time.js';

/** What a LeaderElector reports, as client-go's leader metric hears it. */
export interface LeaderElectionMetrics {
  /** Whether this process leads the lease: once at start, then at each change. */
  leading(lease: string, isLeader: boolean): void;
}

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds?: number;
  readonly renewIntervalMs?: number;
  readonly metrics?: LeaderElectionMetrics;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: acquire when the lease is
 * free or expired, renew well within its duration, and give it up on shutdown so the other
 * replica takes over at once. Losing the lease is fatal for the caller: it must stop reconciling.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly duration: number;
  private readonly renewMs: number;
  private leading = false;
  /** The renewals in the background, once leading: a release waits for the one in flight. */
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.duration = options.leaseDurationSeconds ?? 15;
    this.renewMs = options.renewIntervalMs ?? 2000;
    options.metrics?.leading(options.name, false);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.metrics?.leading(this.options.name, leading);
  }

  /** Blocks until leadership is acquired (or `signal` aborts); then keeps renewing in the background. */
  async acquire(signal: AbortSignal, onLost: () => void): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.setLeading(true);
        this.log.info({ lease: this.options.name }, 'became leader');
        this.renewing = this.renewLoop(signal, onLost);
        return true;
      }
      await sleep(this.renewMs, signal);
    }
    return false;
  }

  private async renewLoop(signal: AbortSignal, onLost: () => void): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted && this.leading) {
      await sleep(this.renewMs, signal);
      if (signal.aborted || !this.leading) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.duration * 1000 * 0.66) {
        this.setLeading(false);
        this.log.error({ lease: this.options.name }, 'lost leadership');
        onLost();
        return;
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new MicroTime();
    try {
      let lease: V1Lease;
      try {
        lease = await this.api.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) {
          await this.api.createNamespacedLease({
            namespace,
            body: {
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds: this.duration,
                acquireTime: now,
                renewTime: now,
                leaseTransitions: 0,
              },
            },
          });
          return true;
        }
        throw error;
      }
      const spec = lease.spec ?? {};
      const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
      const expired = renewed + (spec.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
      const mine = spec.holderIdentity === identity;
      if (!mine && !expired && spec.holderIdentity) return false;
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.duration,
        renewTime: now,
        ...(mine ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      };
      // The resourceVersion in `lease` makes this a compare-and-swap: a concurrent taker gets 409.
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) {
        this.log.warn({ err: error }, 'lease update failed');
      }
      return false;
    }
  }

  /** Gives the lease up so another replica need not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.setLeading(false);
    // A renewal in flight would otherwise write the lease between this read and this write, and
    // the release would fail on the conflict, leaving the lease to expire.
    await this.renewing;
    const { namespace, name } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new MicroTime() };
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
      this.log.info({ lease: name }, 'released leadership');
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the lease');
    }
  }
}
