import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { ranImages } from '../../../controller/runs/ran-images.js';
import { OUTPUTS_LIMIT_CHARS } from '../../../controller/api/run.js';
import { outputsOf, reportedOutputs, withMetrics } from '../../../controller/runs/reported-outputs.js';

const pod = (created: string, status: V1Pod['status']): V1Pod => ({
  metadata: { name: `train-${created}`, creationTimestamp: new Date(created) },
  status,
});
const exited = (message: string | undefined) => ({
  name: 'main',
  image: 'python:3',
  imageID: 'sha256:aa',
  ready: false,
  restartCount: 0,
  state: { terminated: { exitCode: 0, message } },
});

describe('what a run reports in status.outputs', () => {
  it.each([
    { message: '{"accuracy": 0.93, "model": "s3://b/m"}', want: { accuracy: 0.93, model: 's3://b/m' } },
    { message: '  {"nested": {"a": [1, 2]}}\n', want: { nested: { a: [1, 2] } } },
    // The last log lines of a container that failed with FallbackToLogsOnError.
    { message: 'Traceback (most recent call last):', want: undefined },
    { message: '[1, 2]', want: undefined },
    { message: '{"broken": ', want: undefined },
    { message: `{"big": "${'x'.repeat(OUTPUTS_LIMIT_CHARS)}"}`, want: undefined },
  ])('$message', ({ message, want }) => {
    expect(outputsOf(message)).toEqual(want);
  });

  it("reads the newest pod's main container that exited, not an earlier attempt's", () => {
    const first = pod('2026-01-01T00:00:00Z', { containerStatuses: [exited('{"attempt": 1}')] });
    const second = pod('2026-01-01T00:05:00Z', { containerStatuses: [exited('{"attempt": 2}')] });
    expect(reportedOutputs([second, first])).toEqual({ attempt: 2 });
    expect(reportedOutputs([first, second])).toEqual({ attempt: 2 });
    const running = pod('2026-01-01T00:09:00Z', {
      containerStatuses: [{ ...exited(undefined), state: { running: {} } }],
    });
    expect(reportedOutputs([first, running])).toEqual({ attempt: 1 });
  });

  it("adds the MLflow run's latest metrics under the names the run did not report, as many as fit", () => {
    expect(withMetrics({ loss: 'reported' }, { loss: 0.5, accuracy: 0.9 })).toEqual({
      loss: 'reported',
      accuracy: 0.9,
    });
    expect(withMetrics(undefined, {})).toEqual({});
    // 11 characters of JSON around the blob, and 6 for each metric added: three fit, the fourth does not.
    const big = { blob: 'x'.repeat(OUTPUTS_LIMIT_CHARS - 30) };
    const merged = withMetrics(big, { a: 1, b: 2, c: 3, d: 4 });
    expect(JSON.stringify(merged).length).toBeLessThanOrEqual(OUTPUTS_LIMIT_CHARS);
    expect(Object.keys(merged)).toEqual(['blob', 'a', 'b', 'c']);
  });
});

describe('exactly what ran, in status.images', () => {
  it("lists the run's own containers by the id the kubelet ran, init ones included, not the platform's steps", () => {
    const ran = pod('2026-01-01T00:00:00Z', {
      initContainerStatuses: [
        { name: 'plinth-network', image: 'plinth.local/init:1', imageID: 'sha256:11', ready: true, restartCount: 0 },
        { name: 'init-0', image: 'git:2', imageID: 'docker.io/library/git@sha256:22', ready: true, restartCount: 0 },
      ],
      containerStatuses: [
        {
          name: 'main',
          image: 'ghcr.io/acme/train:1.4.2',
          imageID: 'ghcr.io/acme/train@sha256:33',
          ready: true,
          restartCount: 0,
        },
      ],
    });
    expect(ranImages([ran])).toEqual([
      { container: 'init-0', image: 'git:2', imageID: 'docker.io/library/git@sha256:22' },
      { container: 'main', image: 'ghcr.io/acme/train:1.4.2', imageID: 'ghcr.io/acme/train@sha256:33' },
    ]);
  });

  it('takes the newest pod whose containers started, and nothing from a pod still pulling', () => {
    const before = pod('2026-01-01T00:00:00Z', {
      containerStatuses: [{ name: 'main', image: 'train:1', imageID: 'sha256:old', ready: false, restartCount: 0 }],
    });
    const pulling = pod('2026-01-01T00:05:00Z', {
      containerStatuses: [{ name: 'main', image: 'train:1', imageID: '', ready: false, restartCount: 0 }],
    });
    expect(ranImages([before, pulling])).toEqual([{ container: 'main', image: 'train:1', imageID: 'sha256:old' }]);
    expect(ranImages([])).toEqual([]);
  });
});
