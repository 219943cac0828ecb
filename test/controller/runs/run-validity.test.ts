import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import type { LeafRun } from '../../../controller/api/composition.js';
import { REASON } from '../../../controller/api/reasons.js';
import { invalidity, workloadRefusal } from '../../../controller/runs/run-validity.js';
import { runDefaultsOf } from '../../support/platform.js';

const defaults = runDefaultsOf('local');

const run = (namespace: string, spec: Partial<LeafRun['spec']> = {}): LeafRun => ({
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'r', namespace, uid: 'u1' },
  spec: { kind: 'job', pool: 'cpu', job: { container: { image: 'x:1' } }, ...spec },
});

const check = (r: LeafRun) => invalidity(r, defaults.teams[r.metadata.namespace ?? ''], defaults);

describe('invalidity', () => {
  it('lets a run in a team namespace, on its pools, with defined connections start', () => {
    expect(check(run('plinth-vision', { connections: ['datasets'] }))).toBeUndefined();
  });

  it('refuses a namespace that is no team', () => {
    expect(check(run('default'))).toEqual({
      reason: 'NotATeamNamespace',
      message: 'namespace default belongs to no team of this platform',
    });
  });

  it("lets a run naming no pool start on its team's default pool", () => {
    expect(check(run('plinth-vision', { pool: undefined }))).toBeUndefined();
  });

  it('refuses a run naming no pool whose team has none for it', () => {
    const vision = { ...defaults.teams['plinth-vision']!, pools: ['cpu'], defaultGpuPool: null };
    const r = run('plinth-vision', {
      pool: undefined,
      job: { container: { image: 'x:1', resources: { limits: { 'nvidia.com/gpu': 1 } } } },
    });
    expect(invalidity(r, vision, defaults)).toEqual({
      reason: 'NoSuitablePool',
      message: 'the run names no pool and asks for nvidia.com/gpu, but team vision may use no GPU pool; its pools: cpu',
    });
  });

  it("refuses a connection the team may not use, listing the team's", () => {
    const onprem = runDefaultsOf('onprem');
    const r = run('plinth-vision', { connections: ['git', 'warehouse'] });
    expect(invalidity(r, onprem.teams['plinth-vision'], onprem)).toEqual({
      reason: 'ConnectionNotAllowed',
      message: 'team vision may not use connection "warehouse"; allowed: datasets, git',
    });
    expect(invalidity(r, onprem.teams['plinth-nlp'], onprem)).toBeUndefined();
  });

  it('refuses a connection the platform no longer defines, listing those it does', () => {
    expect(check(run('plinth-vision', { connections: ['datasets', 'gdrive'] }))).toEqual({
      reason: 'UnknownConnection',
      message: 'this platform defines no connection "gdrive"; defined: huggingface, datasets, git',
    });
  });
});

describe('workloadRefusal', () => {
  const fieldMessage =
    'Job.batch "r" is invalid: spec.template.spec.serviceAccountName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of ...';
  const failure = (code: number, body: unknown = { kind: 'Status', message: fieldMessage }) =>
    new ApiException(code, `HTTP ${code} from PATCH /apis/batch/v1/namespaces/n/jobs/r: ${fieldMessage}`, body, {});

  it("fails the run on 422 Invalid and 400 BadRequest, with the API server's message naming the field", () => {
    for (const code of [400, 422]) {
      expect(workloadRefusal(failure(code))).toEqual({
        reason: REASON.InvalidWorkload,
        message: `the API server refused the run's workload: ${fieldMessage}`,
      });
    }
  });

  it('keeps a reply that is not a Status as the message', () => {
    expect(workloadRefusal(failure(400, 'malformed body'))?.message).toBe(
      "the API server refused the run's workload: malformed body",
    );
  });

  it('fails the run on the HTTP 500 of a server-side apply that cannot build its patch from the object', () => {
    // As the API server answers two container ports on one port.
    const duplicate =
      'failed to create typed patch object (n/r; /v1, Kind=Service): .spec.ports: duplicate entries for key [port=8080,protocol="TCP"]';
    expect(workloadRefusal(failure(500, { kind: 'Status', message: duplicate }))).toEqual({
      reason: REASON.InvalidWorkload,
      message: `the API server refused the run's workload: ${duplicate}`,
    });
  });

  it('leaves conflicts, throttling, server and network failures to be retried', () => {
    for (const code of [401, 403, 404, 409, 429, 500, 503, 504]) expect(workloadRefusal(failure(code))).toBeUndefined();
    expect(workloadRefusal(new Error('connect ECONNREFUSED 127.0.0.1:6443'))).toBeUndefined();
    expect(workloadRefusal(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
