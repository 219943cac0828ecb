import { RUN_API_VERSION, RUN_GROUP, RUN_KIND, type Run, type RunPhase, type RunStatus } from '../api/run.js';
import type { EventRecord } from '../runtime/event-recorder.js';

/** Who records the Events on runs: `kubectl describe run` shows it under From. */
export const REPORTING_CONTROLLER = `${RUN_GROUP}/controller`;

/** Phases that need a person's attention: their Events are Warnings. */
const WARNING_PHASES: ReadonlySet<RunPhase> = new Set(['failed', 'unschedulable', 'warning', 'retrying']);

/**
 * The Event a status write tells of, if any: a new phase, or a new diagnosis within the phase (its
 * reason: unschedulable for InsufficientGPU, then for UntoleratedTaint). A message that changes
 * alone (a restart count, replicas ready) tells nothing new, so a run gets a handful of Events, not
 * one per write. The action is the phase, the reason and note are the status's reason and message.
 */
export function runEvent(
  run: Pick<Run, 'metadata'>,
  previous: RunStatus | undefined,
  status: RunStatus,
): EventRecord | undefined {
  const { phase, reason } = status;
  // deriveStatus always sets both; a status without them has no story to tell.
  if (!phase || !reason) return undefined;
  if (phase === previous?.phase && reason === previous.reason) return undefined;
  return {
    regarding: {
      apiVersion: RUN_API_VERSION,
      kind: RUN_KIND,
      name: run.metadata.name,
      namespace: run.metadata.namespace ?? '',
      uid: run.metadata.uid ?? '',
    },
    type: WARNING_PHASES.has(phase) ? 'Warning' : 'Normal',
    reason,
    action: phase,
    note: status.message ?? '',
  };
}
