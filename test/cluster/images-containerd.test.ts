import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltImage, buildImages } from '../../images/builder/build-image.js';
import { startContainerd, type ThrowawayContainerd } from '../support/throwaway-containerd.js';

/**
 * The pause image as a real node's containerd takes it: imported from its tar without a registry,
 * named by its full reference, and run. A containerd of the test's own (it needs root), so that
 * nothing reaches the machine's.
 */
const cache = mkdtempSync(join(tmpdir(), 'plinth-images-'));
const previousCache = process.env['PLINTH_CACHE_DIR'];
let containerd: ThrowawayContainerd;
let pause: BuiltImage;

beforeAll(async () => {
  process.env['PLINTH_CACHE_DIR'] = cache;
  [pause] = (await buildImages(['pause'], () => {})) as [BuiltImage];
  containerd = await startContainerd();
});

afterAll(async () => {
  await containerd?.stop();
  if (previousCache === undefined) delete process.env['PLINTH_CACHE_DIR'];
  else process.env['PLINTH_CACHE_DIR'] = previousCache;
  rmSync(cache, { recursive: true, force: true });
});

function taskStatus(id: string): string | undefined {
  const line = containerd
    .ctr('tasks', 'list')
    .split('\n')
    .find((l) => l.split(/\s+/)[0] === id);
  return line?.split(/\s+/)[2];
}

describe('a built image in containerd', () => {
  it('is imported from its tar under its full reference', () => {
    containerd.ctr('images', 'import', pause.archive);
    const listed = containerd.ctr('images', 'list').split('\n').slice(1);
    const line = listed.find((l) => l.startsWith(`${pause.reference} `));
    expect(line, `ctr images list:\n${listed.join('\n')}`).toBeDefined();
    expect(line).toContain(pause.manifestDigest);
  });

  it('runs as its non-root user and stops on SIGTERM', async () => {
    containerd.ctr('run', '--detach', pause.reference, 'pause-test');
    try {
      const pid = containerd
        .ctr('tasks', 'list')
        .split('\n')
        .find((l) => l.startsWith('pause-test '))
        ?.split(/\s+/)[1];
      const uids = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
      expect(uids).toBe('65535');
      expect(taskStatus('pause-test')).toBe('RUNNING');
      containerd.ctr('tasks', 'kill', '--signal', 'SIGTERM', 'pause-test');
      const deadline = Date.now() + 10_000;
      while (taskStatus('pause-test') !== 'STOPPED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(taskStatus('pause-test')).toBe('STOPPED');
    } finally {
      if (taskStatus('pause-test') === 'RUNNING') containerd.ctr('tasks', 'kill', '--signal', 'SIGKILL', 'pause-test');
      containerd.ctr('tasks', 'delete', '--force', 'pause-test');
      containerd.ctr('containers', 'delete', 'pause-test');
    }
  });
});
