import type { TeamDefaults } from '../api/platform-defaults.js';
import type { Run } from '../api/run.js';
import { gpusOf } from './desired-children.js';

export type AdmissionDecision =
  { readonly admitted: true } | { readonly admitted: false; readonly message: string; readonly impossible?: boolean };

const created = (run: Run) => new Date(String(run.metadata['creationTimestamp'] ?? 0)).getTime();

/**
 * Team quotas as a FIFO queue: a run is admitted when it, and every run of its team that arrived
 * before it, fit in the team's concurrent-run and GPU quotas. Admissions are recorded here in the
 * same synchronous step as the decision, so two reconciles can never both take the last GPU.
 * After a restart the set is rebuilt from runs whose workloads exist or that are marked admitted.
 */
export class TeamAdmission {
  private readonly admitted = new Set<string>();
  /** Arrival order: creationTimestamp has one-second resolution, the watch's order does not. */
  private readonly arrivals = new Map<string, number>();
  private nextArrival = 0;

  /** Records that a run arrived; the first call for a run fixes its place in its team's queue. */
  noteArrival(run: Run): void {
    const uid = String(run.metadata.uid);
    if (!this.arrivals.has(uid)) this.arrivals.set(uid, this.nextArrival++);
  }

  /** After a (re)start, the runs already there queue in creation order, then by name. */
  noteExisting(runs: readonly Run[]): void {
    [...runs]
      .sort((a, b) => created(a) - created(b) || a.metadata.name.localeCompare(b.metadata.name))
      .forEach((run) => this.noteArrival(run));
  }

  private byArrival = (a: Run, b: Run): number =>
    (this.arrivals.get(String(a.metadata.uid)) ?? Infinity) - (this.arrivals.get(String(b.metadata.uid)) ?? Infinity) ||
    created(a) - created(b);

  isAdmitted(run: Run): boolean {
    return this.admitted.has(String(run.metadata.uid));
  }

  markAdmitted(run: Run): void {
    this.admitted.add(String(run.metadata.uid));
  }

  release(uid: string): void {
    this.admitted.delete(uid);
  }

  /** Forgets a deleted run entirely. */
  forget(uid: string): void {
    this.admitted.delete(uid);
    this.arrivals.delete(uid);
  }

  /**
   * `teamRuns` lists the team's runs that still want or hold capacity (not finished, not
   * stopped); it is called only for a run not yet admitted, since listing them is the costly part.
   */
  decide(run: Run, teamRuns: () => readonly Run[], team: TeamDefaults): AdmissionDecision {
    if (this.isAdmitted(run)) return { admitted: true };
    const gpus = gpusOf(run);
    if (gpus > team.gpu) {
      return {
        admitted: false,
        impossible: true,
        message: `asks for ${gpus} GPUs, more than team ${team.team}'s whole quota of ${team.gpu}`,
      };
    }
    const active = teamRuns();
    const holding = active.filter((r) => this.isAdmitted(r));
    let usedRuns = holding.length;
    let usedGpus = holding.reduce((n, r) => n + gpusOf(r), 0);
    const waiting = active.filter((r) => !this.isAdmitted(r)).sort(this.byArrival);
    let ahead = 0;
    for (const candidate of waiting) {
      const need = gpusOf(candidate);
      const fits = usedRuns + 1 <= team.maxConcurrentRuns && usedGpus + need <= team.gpu;
      if (!fits) {
        const why =
          usedRuns + 1 > team.maxConcurrentRuns
            ? `team ${team.team} runs ${usedRuns}/${team.maxConcurrentRuns} concurrent runs`
            : `team ${team.team} uses ${usedGpus}/${team.gpu} GPUs`;
        const queue = candidate.metadata.uid === run.metadata.uid ? '' : `; ${ahead + 1} run(s) ahead in the queue`;
        return { admitted: false, message: `waiting for quota: ${why}${queue}` };
      }
      if (candidate.metadata.uid === run.metadata.uid) {
        this.markAdmitted(run);
        return { admitted: true };
      }
      // An earlier run that fits is admitted by its own reconcile; keep its place.
      usedRuns += 1;
      usedGpus += need;
      ahead += 1;
    }
    this.markAdmitted(run);
    return { admitted: true };
  }
}
