import type { LeafKindName } from '../../api/run.js';
import { jobKind } from './job.js';
import type { RunKind } from './run-kind.js';
import { serviceKind } from './service.js';

/**
 * The only switch on a run's kind. Typed by the API's list of kinds, so a kind the API accepts
 * without an implementation here does not compile.
 */
export const RUN_KINDS: { readonly [K in LeafKindName]: RunKind<K> } = { job: jobKind, service: serviceKind };

export const kindOf = (kind: LeafKindName): RunKind => RUN_KINDS[kind];
