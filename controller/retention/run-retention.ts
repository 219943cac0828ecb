import type { V1OwnerReference } from '@kubernetes/client-node';
import type { CachedRun } from '../runs/cached-run.js';
import { isFinalStatus } from '../runs/run-status.js';

/** What becomes of a run under the platform's retention: kept for good, deleted now, or looked at again later. */
export type RetentionDecision =
  { readonly kind: 'keep' } | { readonly kind: 'delete' } | { readonly kind: 'wait'; readonly ms: number };

const KEEP: RetentionDecision = { kind: 'keep' };

/** What retention reads of a run: the fields every shape of the shared Run cache keeps. */
type RetainedRun = Pick<CachedRun, 'metadata' | 'status'>;

/** A run another object controls: a sweep's trial, a DAG's operation, a schedule's firing. */
export function isControlled(run: RetainedRun): boolean {
  return run.metadata.ownerReferences?.some((owner: V1OwnerReference) => owner.controller === true) ?? false;
}

/**
 * Whether a run is deleted now, `retentionMs` after its status's finishedAt, or when to look again.
 * Only top-level runs are: the garbage collector deletes a run's children with it, through their
 * ownerReferences, so a child is never deleted on its own while its parent may still read it. A
 * schedule's children are the exception to come: its history limit is to prune them, as
 * schedules are not served yet (parents/unserved.ts), and a schedule fails at once with none.
 * A run that is not finished is kept: its change of phase brings it back.
 */
export function retentionDecision(run: RetainedRun, retentionMs: number, now: number): RetentionDecision {
  if (isControlled(run) || run.metadata.deletionTimestamp || !isFinalStatus(run.status)) return KEEP;
  const finishedAt = Date.parse(run.status?.finishedAt ?? '');
  // Never the case: the controller sets finishedAt whenever it writes a final phase.
  if (Number.isNaN(finishedAt)) return KEEP;
  const dueInMs = finishedAt + retentionMs - now;
  return dueInMs <= 0 ? { kind: 'delete' } : { kind: 'wait', ms: dueInMs };
}
