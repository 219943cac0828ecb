import { describe, expect, it } from 'vitest';
import type { V1Job, V1PodSpec } from '@kubernetes/client-node';
import type { LeafRun } from '../../../controller/api/composition.js';
import type { JobSection } from '../../../controller/api/run.js';
import { jobKind } from '../../../controller/runs/kinds/job.js';
import { NETWORK_GATE_NAME } from '../../../controller/runs/network-gate.js';
import { OUTPUTS_SYNC_NAME } from '../../../controller/runs/outputs-sync.js';
import { OUTPUTS_RESTORE_NAME } from '../../../controller/runs/outputs-restore.js';
import { RUN_OUTPUTS } from '../../../model/run-outputs.js';
import { runDefaultsOf } from '../../support/platform.js';
import { RUN_SCRATCH } from '../../../model/run-scratch.js';

const defaults = runDefaultsOf('local');
const vision = defaults.teams['plinth-vision']!;
/** The Job a job run of team vision becomes. */
const desiredJob = (r: LeafRun, team = vision) =>
  jobKind.desired(r, { defaults, team, pool: r.spec.pool ?? 'cpu' })[0] as V1Job;

/** A job run of team vision: the shared fields in `spec`, its job section's in `job`. */
const run = (spec: Partial<LeafRun['spec']>, job: Partial<JobSection> = {}): LeafRun => ({
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'r', namespace: 'plinth-vision', uid: 'u1' },
  spec: { kind: 'job', pool: 'cpu', job: { container: { image: 'x:1' }, ...job }, ...spec },
});

/** The init containers the run asked for, after the platform's network gate and outputs sidecar. */
const ownInitContainers = (spec: V1PodSpec | undefined) =>
  (spec?.initContainers ?? []).filter((c) => c.name !== NETWORK_GATE_NAME && c.name !== OUTPUTS_SYNC_NAME);

describe('desiredJob', () => {
  it('maps termination to backoffLimit, activeDeadlineSeconds and ttlSecondsAfterFinished', () => {
    const job = desiredJob(run({}, { termination: { maxRetries: 3, timeout: 600, ttl: 60 } }));
    expect(job.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 60 });
  });

  it('lets a run narrow its pool placement but not leave it', () => {
    const job = desiredJob(run({ environment: { nodeSelector: { 'plinth.dev/pool': 'gpu', zone: 'a' } } }));
    expect(job.spec?.template.spec?.nodeSelector).toEqual({ 'plinth.dev/pool': 'cpu', zone: 'a' });
  });

  it("gives a token only to a run acting as an account whose token the team's config mounts", () => {
    expect(desiredJob(run({})).spec?.template.spec).toMatchObject({
      serviceAccountName: 'plinth-run',
      automountServiceAccountToken: false,
    });
    const own = desiredJob(run({ environment: { serviceAccountName: 'pipeline' } })).spec?.template.spec;
    expect(own?.serviceAccountName).toBe('pipeline');
    expect(own?.automountServiceAccountToken).toBe(true);
    const team = { ...vision, serviceAccounts: { pipeline: { mountToken: false } } };
    const unmounted = jobKind.desired(run({ environment: { serviceAccountName: 'pipeline' } }), {
      defaults: { ...defaults, teams: { 'plinth-vision': team } },
      team,
      pool: 'cpu',
    })[0] as V1Job;
    expect(unmounted.spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });

  it('gives every container, init ones too, a bounded writable /tmp, the main one beside its read-only root', () => {
    const spec = desiredJob(run({}, { init: [{ image: 'git:1' }] })).spec?.template.spec;
    expect(spec?.volumes).toContainEqual({ name: RUN_SCRATCH.volume, emptyDir: { sizeLimit: RUN_SCRATCH.sizeLimit } });
    for (const c of [...ownInitContainers(spec), ...(spec?.containers ?? [])]) {
      expect(c.volumeMounts, c.name).toContainEqual({ name: RUN_SCRATCH.volume, mountPath: '/tmp' });
    }
    expect(spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it('keeps user labels but not over the platform ones', () => {
    const job = desiredJob(run({ environment: { labels: { 'plinth.dev/team': 'nlp', experiment: 'e1' } } }));
    expect(job.spec?.template.metadata?.labels).toMatchObject({
      'plinth.dev/team': 'vision',
      experiment: 'e1',
      'plinth.dev/run': 'r',
    });
  });

  it('applies the floor to init containers too', () => {
    const job = desiredJob(run({}, { init: [{ image: 'git:1', securityContext: { privileged: true } } as never] }));
    expect(ownInitContainers(job.spec?.template.spec)[0]).toMatchObject({
      name: 'init-0',
      securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
  });

  it("gives every container the connections the run names, and the run's own env the last word", () => {
    const spec = desiredJob(
      run({
        connections: ['huggingface', 'datasets'],
        job: {
          init: [{ image: 'fetch:1' }],
          container: {
            image: 'x:1',
            env: [{ name: 'HF_HUB_DISABLE_TELEMETRY', value: '0' }],
            envFrom: [{ configMapRef: { name: 'own' } }],
          } as never,
        },
      }),
    ).spec?.template.spec;
    const [init, main] = [ownInitContainers(spec)[0], spec?.containers[0]];
    for (const c of [init, main]) {
      expect(c?.envFrom?.[0]).toEqual({ secretRef: { name: 'huggingface' } });
      expect(c?.volumeMounts).toContainEqual({ name: 'conn-datasets-claim', mountPath: '/datasets', readOnly: true });
    }
    expect(main?.envFrom?.[1]).toEqual({ configMapRef: { name: 'own' } });
    // Kubernetes takes the last of repeated names: the run's.
    expect(main?.env?.filter((e) => e.name === 'HF_HUB_DISABLE_TELEMETRY').map((e) => e.value)).toEqual(['1', '0']);
    expect(spec?.volumes).toContainEqual({
      name: 'conn-datasets-claim',
      persistentVolumeClaim: { claimName: 'datasets', readOnly: true },
    });
  });

  it("holds the run's containers behind the network gate, which gets the floor and the tracking address, and no credential", () => {
    const spec = desiredJob(
      run({ connections: ['huggingface'], job: { init: [{ image: 'fetch:1' }], container: { image: 'x:1' } } }),
    ).spec?.template.spec;
    const [gate, sidecar, ...own] = spec?.initContainers ?? [];
    expect(sidecar?.name).toBe(OUTPUTS_SYNC_NAME);
    expect(own.map((c) => c.name)).toEqual(['init-0']);
    expect(gate).toMatchObject({
      name: NETWORK_GATE_NAME,
      image: defaults.initImage,
      env: [{ name: 'MLFLOW_TRACKING_URI', value: defaults.tracking.uri }],
      securityContext: defaults.containerSecurityContext,
    });
    expect(gate?.envFrom).toBeUndefined();
    expect(gate?.volumeMounts).toBeUndefined();
    expect(gate?.resources?.requests).toBeDefined();
  });

  it("tells every container of the run's MLflow run, where it was made before them, and no other container", () => {
    const tracking = { experimentId: '7', runId: 'a1b2', url: 'https://tracking/#/experiments/7/runs/a1b2' };
    const spec = (
      jobKind.desired(run({ job: { init: [{ image: 'fetch:1' }], container: { image: 'x:1' } } }), {
        defaults,
        team: vision,
        pool: 'cpu',
        tracking,
      })[0] as V1Job
    ).spec?.template.spec;
    for (const c of [...ownInitContainers(spec), ...(spec?.containers ?? [])]) {
      expect(c.env, c.name).toEqual(
        expect.arrayContaining([
          { name: 'MLFLOW_RUN_ID', value: 'a1b2' },
          { name: 'MLFLOW_EXPERIMENT_ID', value: '7' },
          { name: 'MLFLOW_TRACKING_URI', value: defaults.tracking.uri },
        ]),
      );
    }
    // The platform's own steps log nothing to MLflow.
    for (const c of spec?.initContainers?.filter((c) => c.name.startsWith('plinth-')) ?? []) {
      expect(c.env?.map((e) => e.name) ?? [], c.name).not.toContain('MLFLOW_RUN_ID');
    }
    const untracked = desiredJob(run({})).spec?.template.spec?.containers[0]?.env?.map((e) => e.name);
    expect(untracked).toContain('MLFLOW_TRACKING_URI');
    expect(untracked).not.toContain('MLFLOW_RUN_ID');
  });

  it("gives every container the run's outputs URI and path, which a native sidecar copies to the store with the team's credential", () => {
    const spec = desiredJob(run({ job: { init: [{ image: 'fetch:1' }], container: { image: 'x:1' } } })).spec?.template
      .spec;
    const uri = `s3://plinth-local/plinth/outputs/vision/u1`;
    for (const c of [...ownInitContainers(spec), ...(spec?.containers ?? [])]) {
      expect(c.env, c.name).toContainEqual({ name: RUN_OUTPUTS.uriEnv, value: uri });
      expect(c.env, c.name).toContainEqual({ name: RUN_OUTPUTS.pathEnv, value: RUN_OUTPUTS.mountPath });
      expect(c.volumeMounts, c.name).toContainEqual({ name: RUN_OUTPUTS.volume, mountPath: RUN_OUTPUTS.mountPath });
    }
    const sidecar = spec?.initContainers?.find((c) => c.name === OUTPUTS_SYNC_NAME);
    expect(sidecar).toMatchObject({
      restartPolicy: 'Always',
      image: defaults.initImage,
      securityContext: defaults.containerSecurityContext,
      volumeMounts: [
        { name: RUN_OUTPUTS.volume, mountPath: RUN_OUTPUTS.mountPath, readOnly: true },
        { name: RUN_SCRATCH.volume, mountPath: RUN_SCRATCH.mountPath, readOnly: true },
      ],
    });
    // The team's own credential, as the run's containers have it.
    for (const e of vision.artifacts.env) expect(sidecar?.env).toContainEqual(e);
    expect(spec?.volumes).toContainEqual({ name: RUN_OUTPUTS.volume, emptyDir: { sizeLimit: RUN_OUTPUTS.sizeLimit } });
  });

  it("fills a resumed run's outputs path from the earlier run's, whose prefix becomes its own", () => {
    const source = { mode: 'resume', uid: 'old-uid' } as const;
    const job = jobKind.desired(run({}), { defaults, team: vision, pool: 'cpu', outputsSource: source })[0] as V1Job;
    const spec = job.spec?.template.spec;
    expect(spec?.initContainers?.map((c) => c.name)).toEqual([
      NETWORK_GATE_NAME,
      OUTPUTS_RESTORE_NAME,
      OUTPUTS_SYNC_NAME,
    ]);
    const restore = spec?.initContainers?.[1];
    expect(restore?.command?.at(-1)).toBe('resume');
    expect(restore?.env).toContainEqual({
      name: 'PLINTH_OUTPUTS_SOURCE_URI',
      value: 's3://plinth-local/plinth/outputs/vision/old-uid',
    });
    expect(restore?.securityContext).toEqual(defaults.containerSecurityContext);
    expect(spec?.containers[0]?.env).toContainEqual({
      name: RUN_OUTPUTS.uriEnv,
      value: 's3://plinth-local/plinth/outputs/vision/old-uid',
    });
  });

  it("gives a copy its own prefix, and the earlier run's outputs to start with", () => {
    const source = { mode: 'copy', uid: 'old-uid' } as const;
    const job = jobKind.desired(run({}), { defaults, team: vision, pool: 'cpu', outputsSource: source })[0] as V1Job;
    const spec = job.spec?.template.spec;
    expect(spec?.initContainers?.find((c) => c.name === OUTPUTS_RESTORE_NAME)?.command?.at(-1)).toBe('copy');
    expect(spec?.containers[0]?.env).toContainEqual({
      name: RUN_OUTPUTS.uriEnv,
      value: 's3://plinth-local/plinth/outputs/vision/u1',
    });
  });

  it('gives a run of a store the platform does not copy to the URI alone', () => {
    const unsynced = {
      ...vision,
      artifacts: { ...vision.artifacts, outputs: { uri: 'gs://b/outputs/vision', synced: false } },
    };
    const spec = desiredJob(run({}), unsynced).spec?.template.spec;
    expect(spec?.containers[0]?.env).toContainEqual({ name: RUN_OUTPUTS.uriEnv, value: 'gs://b/outputs/vision/u1' });
    expect(spec?.containers[0]?.env?.map((e) => e.name)).not.toContain(RUN_OUTPUTS.pathEnv);
    expect(spec?.initContainers?.map((c) => c.name)).toEqual([NETWORK_GATE_NAME]);
  });

  it("keeps the run's own process from being pid 1, where SIGTERM would not end it", () => {
    expect(desiredJob(run({})).spec?.template.spec?.shareProcessNamespace).toBe(true);
  });

  it('adds nothing for connections the run does not name', () => {
    const template = desiredJob(run({})).spec?.template;
    expect(template?.spec?.containers[0]?.envFrom).toBeUndefined();
    expect(template?.spec?.volumes?.map((v) => v.name)).not.toContain('conn-datasets-claim');
    expect(Object.keys(template?.metadata?.labels ?? {}).filter((k) => k.startsWith('connections.'))).toEqual([]);
  });

  it('labels the pods of a connected run, which a run cannot do for itself', () => {
    const labelsOf = (spec: Partial<LeafRun['spec']>) => desiredJob(run(spec)).spec?.template.metadata?.labels;
    expect(labelsOf({ connections: ['git'] })).toMatchObject({ 'connections.plinth.dev/git': 'true' });
    // The label lets the pod out through the connection's egress NetworkPolicy.
    const own = labelsOf({ environment: { labels: { 'connections.plinth.dev/git': 'true', experiment: 'a' } } });
    expect(own?.['connections.plinth.dev/git']).toBeUndefined();
    expect(own?.['experiment']).toBe('a');
  });
});
