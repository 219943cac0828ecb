import { describe, expect, it } from 'vitest';
import {
  MLFLOW_END,
  mlflowRunRecord,
  mlflowRunUrl,
  ranTags,
  teamExperimentArtifacts,
  teamExperimentName,
  trackingWait,
} from '../../../controller/tracking/run-tracking.js';
import { PLATFORM_VERSION } from '../../../model/platform-version.js';
import { platformDefaults } from '../../../constructs/controller-deployment.js';
import { validatePlatformConfig } from '../../../model/config/validate.js';
import { environments } from '../../../stacks/environments/index.js';

describe('the MLflow run of a Run', () => {
  const run = {
    metadata: { name: 'train', uid: '4c1d-uid' },
    spec: {
      kind: 'job' as const,
      params: [
        { name: 'LR', value: '0.01' },
        { name: 'EPOCHS', value: '3' },
      ],
    },
  };

  it('is named after the run, tagged with its uid, team, kind, pool and the platform version, and holds its params', () => {
    expect(mlflowRunRecord(run, 'vision', 'cpu')).toEqual({
      name: 'train',
      tags: [
        { key: 'plinth.dev/run-uid', value: '4c1d-uid' },
        { key: 'plinth.dev/team', value: 'vision' },
        { key: 'plinth.dev/kind', value: 'job' },
        { key: 'plinth.dev/pool', value: 'cpu' },
        { key: 'plinth.dev/platform-version', value: PLATFORM_VERSION },
      ],
      params: [
        { key: 'LR', value: '0.01' },
        { key: 'EPOCHS', value: '3' },
      ],
    });
  });

  it('has no pool tag where the run has no pool, and no params where it has none', () => {
    const record = mlflowRunRecord({ ...run, spec: { kind: 'service' } }, 'vision', undefined);
    expect(record.tags.map((t) => t.key)).not.toContain('plinth.dev/pool');
    expect(record.params).toEqual([]);
  });

  it("goes to its team's experiment, whose artifacts are under the team's outputs", () => {
    const defaults = platformDefaults(validatePlatformConfig('local', environments['local']));
    const team = Object.values(defaults.teams)[0];
    if (!team) throw new Error('the local environment has no team');
    expect(teamExperimentName(team.team)).toBe(`teams/${team.team}`);
    expect(teamExperimentArtifacts(team)).toBe(`${team.artifacts.outputs.uri}/mlflow`);
    expect(teamExperimentArtifacts(team)).toMatch(new RegExp(`/outputs/${team.team}/mlflow$`));
  });

  it('records each container of the run by the image id it ran', () => {
    expect(ranTags([{ container: 'main', image: 'train:1', imageID: 'ghcr.io/acme/train@sha256:33' }])).toEqual([
      { key: 'plinth.dev/image/main', value: 'ghcr.io/acme/train@sha256:33' },
    ]);
    expect(ranTags(undefined)).toEqual([]);
  });

  it('ends as the run ended', () => {
    expect(MLFLOW_END).toEqual({ succeeded: 'FINISHED', failed: 'FAILED', stopped: 'KILLED' });
  });

  it("is opened at its page in the tracking server's UI", () => {
    expect(mlflowRunUrl('https://tracking.example.com/', '7', 'a1b2')).toBe(
      'https://tracking.example.com/#/experiments/7/runs/a1b2',
    );
  });
});

describe('how long a run waits for its MLflow run', () => {
  const waitMs = 60_000;
  it.each([
    {
      case: 'just wanted, the server answering',
      now: 1_000,
      wantedSince: 1_000,
      outageSince: undefined,
      want: { waiting: true, retryMs: 1_000 },
    },
    {
      case: 'a second short of the wait',
      now: 60_000,
      wantedSince: 1_000,
      outageSince: undefined,
      want: { waiting: true, retryMs: 1_000 },
    },
    {
      case: 'half a second short of the wait',
      now: 60_500,
      wantedSince: 1_000,
      outageSince: undefined,
      want: { waiting: true, retryMs: 500 },
    },
    { case: 'the wait over', now: 61_000, wantedSince: 1_000, outageSince: undefined, want: { waiting: false } },
    {
      case: 'an outage that began 50 s before it was wanted',
      now: 100_000,
      wantedSince: 100_000,
      outageSince: 50_000,
      want: { waiting: true, retryMs: 1_000 },
    },
    {
      case: 'an outage older than the wait',
      now: 200_000,
      wantedSince: 200_000,
      outageSince: 50_000,
      want: { waiting: false },
    },
    {
      case: 'an outage that began after it was wanted',
      now: 30_000,
      wantedSince: 1_000,
      outageSince: 20_000,
      want: { waiting: true, retryMs: 1_000 },
    },
  ])('$case', ({ now, wantedSince, outageSince, want }) => {
    expect(trackingWait({ now, wantedSince, outageSince, waitMs })).toEqual(want);
  });

  it('does not wait at all where tracking.waitSeconds is 0', () => {
    expect(trackingWait({ now: 5, wantedSince: 5, outageSince: undefined, waitMs: 0 })).toEqual({ waiting: false });
  });
});
