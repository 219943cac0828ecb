import type { TeamDefaults } from '../api/platform-defaults.js';
import type { LeafRunSummary } from './cached-run.js';
import { kindOf } from './kinds/registry.js';

export type AdmissionDecision =
  | {
      readonly admitted: true;
      /** The run shrank below what it held: the capacity freed may admit a waiting run. */
      readonly freed?: true;
    }
  | {
      readonly admitted: false;
      readonly message: string;
      readonly impossible?: boolean;
      /** The run was admitted for less and keeps what it holds, its workload unchanged, while it waits. */
      readonly holding?: boolean;
    };

/** GPUs a run holds while admitted, as its kind counts them. */
const gpusOf = (run: LeafRunSummary): number => kindOf(run.spec.kind).gpus(run);

/** What the queue reads of a run, whatever the cache keeps of it: its identity and age. */
type QueuedRun = Pick<LeafRunSummary, 'metadata'>;

const created = (run: QueuedRun) => new Date(String(run.metadata['creationTimestamp'] ?? 0)).getTime();

/**
 * Team quotas as a FIFO queue: a run is admitted when it, and every run of its team that arrived
 * before it, fit in the team's concurrent-run and GPU quotas. Admissions are recorded here in the
 * same synchronous step as the decision, so two reconciles can never both take the last GPU.
 * After a restart the set is rebuilt from runs whose workloads exist or that are marked admitted.
 */
export class TeamAdmission {
  /** The admitted runs, with the GPUs each was admitted for: a run that grows is admitted again. */
  private readonly admitted = new Map<string, number>();
  /** Arrival order: creationTimestamp has one-second resolution, the watch's order does not. */
  private readonly arrivals = new Map<string, number>();
  /** By namespace, the runs that arrived and neither hold capacity nor have given up wanting it. */
  private readonly waiting = new Map<string, Set<string>>();
  private nextArrival = 0;

  /** Records that a run arrived; the first call for a run fixes its place in its team's queue. */
  noteArrival(run: QueuedRun): void {
    const uid = String(run.metadata.uid);
    if (this.arrivals.has(uid)) return;
    this.arrivals.set(uid, this.nextArrival++);
    if (!this.admitted.has(uid)) this.waitingIn(run).add(uid);
  }

  /** After a (re)start, the runs already there queue in creation order, then by name. */
  noteExisting(runs: readonly QueuedRun[]): void {
    [...runs]
      .sort((a, b) => created(a) - created(b) || a.metadata.name.localeCompare(b.metadata.name))
      .forEach((run) => this.noteArrival(run));
  }

  private byArrival = (a: QueuedRun, b: QueuedRun): number =>
    (this.arrivals.get(String(a.metadata.uid)) ?? Infinity) - (this.arrivals.get(String(b.metadata.uid)) ?? Infinity) ||
    created(a) - created(b);

  private waitingIn(run: QueuedRun): Set<string> {
    const namespace = run.metadata.namespace ?? '';
    const set = this.waiting.get(namespace) ?? new Set<string>();
    this.waiting.set(namespace, set);
    return set;
  }

  isAdmitted(run: QueuedRun): boolean {
    return this.admitted.has(String(run.metadata.uid));
  }

  markAdmitted(run: LeafRunSummary): void {
    this.admitted.set(String(run.metadata.uid), gpusOf(run));
    this.waitingIn(run).delete(String(run.metadata.uid));
  }

  /** Whether any run of the namespace waits for capacity: only then does freed capacity matter. */
  hasWaiting(namespace: string): boolean {
    return (this.waiting.get(namespace)?.size ?? 0) > 0;
  }

  /** A run that finished or was stopped: it no longer holds or wants capacity. True if it held some. */
  release(run: QueuedRun): boolean {
    this.waitingIn(run).delete(String(run.metadata.uid));
    return this.admitted.delete(String(run.metadata.uid));
  }

  /** Forgets a deleted run entirely. */
  forget(run: QueuedRun): void {
    this.release(run);
    this.arrivals.delete(String(run.metadata.uid));
  }

  /**
   * `teamRuns` lists the team's runs that still want or hold capacity (not finished, not
   * stopped); it is called only for a run not yet admitted, since listing them is the costly part.
   * One pass over them, and a sort of only the runs ahead when the first of them fits: a run deep
   * in a long queue is decided without ordering the whole queue.
   */
  decide(run: LeafRunSummary, teamRuns: () => readonly LeafRunSummary[], team: TeamDefaults): AdmissionDecision {
    const gpus = gpusOf(run);
    const held = this.admitted.get(String(run.metadata.uid));
    if (held !== undefined) return gpus <= held ? this.keep(run, gpus) : this.grow(run, gpus, held, teamRuns(), team);
    if (gpus > team.gpu) {
      return {
        admitted: false,
        impossible: true,
        message: `asks for ${gpus} GPUs, more than team ${team.team}'s whole quota of ${team.gpu}`,
      };
    }
    let usedRuns = 0;
    let usedGpus = 0;
    const ahead: LeafRunSummary[] = [];
    for (const other of teamRuns()) {
      if (this.isAdmitted(other)) {
        usedRuns += 1;
        usedGpus += this.heldBy(other);
      } else if (other.metadata.uid !== run.metadata.uid && this.byArrival(other, run) < 0) {
        ahead.push(other);
      }
    }
    const queue = ahead.length > 0 ? `; ${ahead.length} run(s) ahead in the queue` : '';
    const blocked = (need: number) =>
      usedRuns + 1 > team.maxConcurrentRuns
        ? `team ${team.team} runs ${usedRuns}/${team.maxConcurrentRuns} concurrent runs`
        : usedGpus + need > team.gpu
          ? `team ${team.team} uses ${usedGpus}/${team.gpu} GPUs`
          : undefined;
    // The head of the queue is usually what blocks a run; finding it needs no sort.
    const head = ahead.reduce<LeafRunSummary | undefined>(
      (first, r) => (!first || this.byArrival(r, first) < 0 ? r : first),
      undefined,
    );
    const headBlocked = head && blocked(gpusOf(head));
    if (headBlocked) return { admitted: false, message: `waiting for quota: ${headBlocked}${queue}` };
    // An earlier run that fits is admitted by its own reconcile; it keeps its place.
    for (const earlier of ahead.sort(this.byArrival)) {
      const why = blocked(gpusOf(earlier));
      if (why) return { admitted: false, message: `waiting for quota: ${why}${queue}` };
      usedRuns += 1;
      usedGpus += gpusOf(earlier);
    }
    const why = blocked(gpus);
    if (why) return { admitted: false, message: `waiting for quota: ${why}${queue}` };
    this.markAdmitted(run);
    return { admitted: true };
  }

  /** GPUs an admitted run holds: those it was admitted for, whatever its spec asks for since. */
  private heldBy(run: LeafRunSummary): number {
    return this.admitted.get(String(run.metadata.uid)) ?? 0;
  }

  /** An admitted run that asks for no more than it holds keeps its place, and holds only what it asks. */
  private keep(run: LeafRunSummary, gpus: number): AdmissionDecision {
    const held = this.heldBy(run);
    this.admitted.set(String(run.metadata.uid), gpus);
    return gpus < held ? { admitted: true, freed: true } : { admitted: true };
  }

  /**
   * An admitted run that asks for more GPUs than it was admitted for (a service scaled up) is
   * admitted again for the difference: it keeps what it holds, and its workload keeps its size,
   * until the team's quota has room for the rest. It does not queue behind runs that arrived after it.
   */
  private grow(
    run: LeafRunSummary,
    gpus: number,
    held: number,
    teamRuns: readonly LeafRunSummary[],
    team: TeamDefaults,
  ): AdmissionDecision {
    const usedByOthers = teamRuns
      .filter((r) => r.metadata.uid !== run.metadata.uid && this.isAdmitted(r))
      .reduce((sum, r) => sum + this.heldBy(r), 0);
    if (gpus > team.gpu) {
      return {
        admitted: false,
        message: `asks for ${gpus} GPUs, more than team ${team.team}'s whole quota of ${team.gpu}; it keeps the ${held} it holds`,
        holding: true,
      };
    }
    if (usedByOthers + gpus > team.gpu) {
      return {
        admitted: false,
        message: `waiting for quota to grow from ${held} to ${gpus} GPUs: team ${team.team} uses ${usedByOthers + held}/${team.gpu} GPUs`,
        holding: true,
      };
    }
    return this.keep(run, gpus);
  }

  /**
   * The waiting runs that capacity freed by a finished run could admit next: the head of the
   * team's queue, as many as the team has free run slots (at least one). Only these need a
   * reconcile when capacity frees; the rest keep their place and refresh their position at resync.
   */
  queueHead(teamRuns: readonly LeafRunSummary[], team: TeamDefaults): LeafRunSummary[] {
    const waiting = teamRuns.filter((r) => !this.isAdmitted(r));
    const free = Math.max(1, team.maxConcurrentRuns - (teamRuns.length - waiting.length));
    return waiting.sort(this.byArrival).slice(0, free);
  }
}
