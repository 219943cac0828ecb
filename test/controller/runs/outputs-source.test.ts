import { describe, expect, it } from 'vitest';
import { outputsSource, type RunLookup } from '../../../controller/runs/outputs-source.js';
import type { Run } from '../../../controller/api/run.js';
import { runDefaultsOf } from '../../support/platform.js';

const defaults = runDefaultsOf('local');
const vision = defaults.teams['plinth-vision']!;
const OLD = '6f1c3a52-0000-4000-8000-000000000001';
const NLP_RUN = '6f1c3a52-0000-4000-8000-000000000002';
const GONE = '6f1c3a52-0000-4000-8000-000000000003';

/** The runs the controller's cache holds: one of vision's, one of nlp's. */
const runs: RunLookup = {
  byName: (namespace, name) => (namespace === 'plinth-vision' && name === 'train' ? { uid: OLD } : undefined),
  byUid: (uid) =>
    uid === OLD
      ? { namespace: 'plinth-vision', name: 'train' }
      : uid === NLP_RUN
        ? { namespace: 'plinth-nlp', name: 'theirs' }
        : undefined,
};

const run = (spec: Partial<Run['spec']>) =>
  ({ metadata: { name: 'next', namespace: 'plinth-vision' }, spec: { kind: 'job', ...spec } }) as Run;

describe('the earlier run a run starts with', () => {
  it.each([
    ['none asked for', {}, undefined],
    ['a run of the namespace, by name, resumed', { resumeFrom: { name: 'train' } }, { mode: 'resume', uid: OLD }],
    ['a run of the team, by uid, copied', { copyFrom: { uid: OLD } }, { mode: 'copy', uid: OLD }],
    ['a deleted run, by a uid the cache does not know', { resumeFrom: { uid: GONE } }, { mode: 'resume', uid: GONE }],
  ] as const)('%s', (_, spec, expected) => {
    expect(outputsSource(run(spec), vision, defaults, runs)).toEqual(expected);
  });

  it('refuses a name that is no run of the namespace, naming the field and what to give', () => {
    expect(outputsSource(run({ resumeFrom: { name: 'nope' } }), vision, defaults, runs)).toEqual({
      reason: 'OutputsSourceNotFound',
      message:
        'spec.resumeFrom.name: no run "nope" in namespace plinth-vision; name a run of team vision, or give the uid of one whose outputs are kept',
    });
  });

  it("refuses another team's run, naming the team", () => {
    expect(outputsSource(run({ copyFrom: { uid: NLP_RUN } }), vision, defaults, runs)).toMatchObject({
      reason: 'OutputsSourceNotAllowed',
      message: expect.stringContaining(`spec.copyFrom.uid: run ${NLP_RUN} is team nlp's`),
    });
  });

  it('refuses where the store keeps no copies of outputs', () => {
    const unsynced = {
      ...vision,
      artifacts: { ...vision.artifacts, outputs: { uri: 'gs://b/o/vision', synced: false } },
    };
    expect(outputsSource(run({ resumeFrom: { name: 'train' } }), unsynced, defaults, runs)).toMatchObject({
      reason: 'OutputsSourceNotAllowed',
    });
  });
});
