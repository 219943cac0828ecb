/**
 * The run API's contract for logs: what the controller puts on run pods and runs so that every
 * line a run prints is archived (controller/logs/), and what tells a run's users when it was not.
 */

/**
 * On every pod of a run, where the platform archives logs: the pod stays, terminating, until its
 * containers' logs are archived to their end, so that a stop, a TTL or a deletion loses no line.
 */
export const LOGS_FINALIZER = 'plinth.dev/logs';

/**
 * How long after a pod's deletion the archiver still tries to finish its logs. Past it the
 * finalizer is taken off whatever is left, and the run says its logs are incomplete: a stop never
 * hangs on an archiver that is down or a node that is gone.
 */
export const LOGS_DEADLINE_SECONDS = 600;
