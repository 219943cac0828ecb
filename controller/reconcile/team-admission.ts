import type { TeamDefaults } from '../api/platform-defaults.js';
import type { Run } from '../api/run.js';
import { gpusOf } from './desired-children.js';

export type AdmissionDecision =
  { readonly admitted: true } | { readonly admitted: false; readonly message: string; readonly impossible?: boolean };

function byArrival(a: Run, b: Run): number {
  const ta = new Date(String(a.metadata['creationTimestamp'] ?? 0)).getTime();
  const tb = new Date(String(b.metadata['creationTimestamp'] ?? 0)).getTime();
  return ta - tb || a.metadata.name.localeCompare(b.metadata.name);
}

/**
 * Team quotas as a FIFO queue: a run is admitted when it, and every run of its team that arrived
 * before it, fit in the team's concurrent-run and GPU quotas. Admissions are recorded here in the
 * same synchronous step as the decision, so two reconciles can never both take the last GPU.
 * After a restart the set is rebuilt from runs whose workloads exist or that are marked admitted.
 */
export class TeamAdmission {
  private readonly admitted = new Set<string>();

  isAdmitted(run: Run): boolean {
    return this.admitted.has(String(run.metadata.uid));
  }

  markAdmitted(run: Run): void {
    this.admitted.add(String(run.metadata.uid));
  }

  release(uid: string): void {
    this.admitted.delete(uid);
  }

  /**
   * `teamRuns` are the team's runs that still want or hold capacity (not finished, not stopped).
   */
  decide(run: Run, teamRuns: readonly Run[], team: TeamDefaults): AdmissionDecision {
    if (this.isAdmitted(run)) return { admitted: true };
    const gpus = gpusOf(run);
    if (gpus > team.gpu) {
      return {
        admitted: false,
        impossible: true,
        message: `asks for ${gpus} GPUs, more than team ${team.team}'s whole quota of ${team.gpu}`,
      };
    }
    const holding = teamRuns.filter((r) => this.isAdmitted(r));
    let usedRuns = holding.length;
    let usedGpus = holding.reduce((n, r) => n + gpusOf(r), 0);
    const waiting = teamRuns.filter((r) => !this.isAdmitted(r)).sort(byArrival);
    let ahead = 0;
    for (const candidate of waiting) {
      const need = gpusOf(candidate);
      const fits = usedRuns + 1 <= team.maxConcurrentRuns && usedGpus + need <= team.gpu;
      if (!fits) {
        const why =
          usedRuns + 1 > team.maxConcurrentRuns
            ? `team ${team.team} runs ${usedRuns}/${team.maxConcurrentRuns} concurrent runs`
            : `team ${team.team} uses ${usedGpus}/${team.gpu} GPUs`;
        const queue = candidate === run ? '' : `; ${ahead + 1} run(s) ahead in the queue`;
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
