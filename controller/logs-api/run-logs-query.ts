import { RUN_LOGS_PARAMETERS, type RunLogsParameter } from '../api/logs.js';

/** A read of a run's log, as its query asked for it. */
export interface RunLogsQuery {
  readonly pod: string | undefined;
  readonly container: string | undefined;
  readonly follow: boolean;
  readonly timestamps: boolean;
  readonly prefix: boolean;
  readonly uid: string | undefined;
}

/** What each name may be: what the API server allows for the object it names. */
const FORMS: Partial<Record<RunLogsParameter, { pattern: RegExp; allowed: string }>> = {
  pod: {
    pattern: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
    allowed: 'a pod name (lower-case letters, digits, "-" and ".")',
  },
  container: { pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, allowed: 'a container name (a DNS label)' },
  uid: {
    pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    allowed: 'a uid, as metadata.uid gives it',
  },
};
const BOOLEANS = new Set<RunLogsParameter>(['follow', 'timestamps', 'prefix']);

/**
 * The query of a log read, or an error that names the parameter and what it allows. Unknown
 * parameters are refused rather than ignored, so that `folow=true` does not read quietly once.
 */
export function parseRunLogsQuery(params: URLSearchParams): RunLogsQuery | { error: string } {
  const known = Object.keys(RUN_LOGS_PARAMETERS) as RunLogsParameter[];
  const values: Partial<Record<RunLogsParameter, string>> = {};
  for (const [name, value] of params) {
    if (!known.includes(name as RunLogsParameter)) {
      return { error: `unknown parameter "${name}"; the log takes: ${known.join(', ')}` };
    }
    if (values[name as RunLogsParameter] !== undefined) return { error: `parameter "${name}" is given twice` };
    values[name as RunLogsParameter] = value;
  }
  for (const name of known) {
    const value = values[name];
    if (value === undefined) continue;
    const form = FORMS[name];
    if (form && !form.pattern.test(value)) return { error: `${name}: "${value}" is not ${form.allowed}` };
    if (BOOLEANS.has(name) && value !== 'true' && value !== 'false') {
      return { error: `${name}: "${value}" is not "true" or "false"` };
    }
  }
  const pod = values.pod;
  const container = values.container;
  return {
    pod,
    container,
    follow: values.follow === 'true',
    timestamps: values.timestamps === 'true',
    // Several containers' lines need a label to tell them apart; one container's (of every pod of a
    // retried run, one pod after another) read as `kubectl logs` shows them.
    prefix: values.prefix === undefined ? container === undefined : values.prefix === 'true',
    uid: values.uid,
  };
}
