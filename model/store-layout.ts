/**
 * Where everything lives in the artifact store, under the config's `artifacts.prefix`:
 *
 *   <prefix>/logs/<team>/<run-uid>/...     the platform writes a run's logs; the team reads them
 *   <prefix>/outputs/<team>/<run-uid>/...  the run writes its outputs; the team reads and writes them
 *   <prefix>/mlflow/...                    the tracking server's default artifact root
 *   <prefix>/postgres/...                  CloudNativePG's base backups and WAL
 *
 * The layout is binding: credentials (IAM roles, store users), lifecycle rules and the controller
 * are all derived from these functions. Each returns a key prefix ending in `/`, so that a grant on
 * team `vision` never reaches team `vision2`.
 */

const LOGS = 'logs';
const OUTPUTS = 'outputs';
const TRACKING = 'mlflow';
const DATABASE_BACKUPS = 'postgres';

/** The key prefix of the path segments under the store's prefix; an empty store prefix is the bucket's root. */
function keyPrefix(prefix: string, ...segments: string[]): string {
  const parts = [prefix, ...segments].map((s) => s.replace(/^\/+|\/+$/g, '')).filter((s) => s.length > 0);
  return parts.length === 0 ? '' : `${parts.join('/')}/`;
}

/** Everything the platform writes, for rules that hold for all of it (non-current versions). */
export const storeRoot = (prefix: string): string => keyPrefix(prefix);

/** Every team's logs, for the lifecycle rule that expires them. */
export const logsPrefix = (prefix: string): string => keyPrefix(prefix, LOGS);
/** A team's logs: the team reads them, only the platform writes them. */
export const teamLogsPrefix = (prefix: string, team: string): string => keyPrefix(prefix, LOGS, team);
/** One run's logs; a uid, never a name, so that two runs that reused a name never mix. */
export const runLogsPrefix = (prefix: string, team: string, runUid: string): string =>
  keyPrefix(prefix, LOGS, team, runUid);

/** Every team's outputs, for the lifecycle rule that expires them and for the tracking server. */
export const outputsPrefix = (prefix: string): string => keyPrefix(prefix, OUTPUTS);
/** A team's outputs: its runs read and write them. */
export const teamOutputsPrefix = (prefix: string, team: string): string => keyPrefix(prefix, OUTPUTS, team);
/** One run's outputs. */
export const runOutputsPrefix = (prefix: string, team: string, runUid: string): string =>
  keyPrefix(prefix, OUTPUTS, team, runUid);

/** The tracking server's default artifact root, for experiments no team's prefix holds. */
export const trackingPrefix = (prefix: string): string => keyPrefix(prefix, TRACKING);

/** Postgres's base backups and WAL: no team credential reaches them. */
export const databaseBackupsPrefix = (prefix: string): string => keyPrefix(prefix, DATABASE_BACKUPS);

/** The URI of a key prefix in a bucket (`s3://bucket/plinth/outputs/vision`), as clients take it. */
export function storeUri(scheme: 's3' | 'gs', bucket: string, key: string): string {
  return `${scheme}://${bucket}${key ? `/${key.replace(/\/$/, '')}` : ''}`;
}
