import { describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION } from '../../controller/api/run.js';
import { kubeConfigAs } from '../support/cluster.js';
import { apiMessage, deleteRuns, runObject } from '../support/identities.js';
import { getRun, submitRun } from '../support/runs.js';

/** Creates a run as a dry run and returns the API server's rejection message. */
async function rejection(spec: Record<string, unknown>): Promise<string> {
  const api = kubeConfigAs('vision-dev').makeApiClient(CustomObjectsApi);
  try {
    await api.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: 'plinth-vision',
      body: { ...runObject('invalid'), spec },
      dryRun: 'All',
    });
  } catch (error) {
    return apiMessage(error);
  }
  throw new Error('expected the API server to reject the run');
}

const base = { kind: 'job', pool: 'cpu', container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } };

describe('the API server rejects bad runs at apply time', () => {
  it('accepts a valid run', async () => {
    const api = kubeConfigAs('vision-dev').makeApiClient(CustomObjectsApi);
    await expect(
      api.createNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace: 'plinth-vision',
        body: runObject('valid'),
        dryRun: 'All',
      }),
    ).resolves.toBeDefined();
  });

  it('reads a new run back as created, before any controller reports on it', async () => {
    // No controller runs during this file: the phase comes from the CRD's default.
    try {
      await submitRun('plinth-vision', 'unreported');
      const run = await getRun('plinth-vision', 'unreported');
      expect(run.status).toEqual({ phase: 'created' });
    } finally {
      await deleteRuns(kubeConfigAs('admin'), 'plinth-vision', ['unreported']);
    }
  });

  it('rejects an unknown pool, listing the pools', async () => {
    expect(await rejection({ ...base, pool: 'tpu' })).toMatch(
      /spec\.pool: Unsupported value: "tpu": supported values: "cpu", "gpu"/,
    );
  });

  it('rejects a negative maxRetries', async () => {
    expect(await rejection({ ...base, termination: { maxRetries: -1 } })).toMatch(
      /spec\.termination\.maxRetries: Invalid value: -1: spec\.termination\.maxRetries in body should be greater than or equal to 0/,
    );
  });

  it('rejects a job with ports', async () => {
    expect(await rejection({ ...base, ports: [{ port: 8080 }] })).toMatch(
      /spec\.ports: Forbidden: a job run cannot have ports or replicas/,
    );
  });

  it('rejects a service without ports', async () => {
    expect(await rejection({ ...base, kind: 'service' })).toMatch(
      /spec\.ports: Required value: a service run needs at least one port/,
    );
  });

  it('rejects a container without an image', async () => {
    expect(await rejection({ ...base, container: { name: 'main' } })).toMatch(/spec\.container\.image: Required value/);
  });

  it('rejects a GPU request on a CPU pool', async () => {
    expect(
      await rejection({
        ...base,
        container: { image: 'ghcr.io/plinth-dev/train:1.0.0', resources: { limits: { 'nvidia.com/gpu': 1 } } },
      }),
    ).toMatch(
      /spec\.container\.resources: Invalid value: .*asks for nvidia\.com\/gpu on a CPU pool; use a GPU pool \(gpu\)/,
    );
  });
});
