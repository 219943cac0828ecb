import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { synthesize } from '../../stacks/synth.js';
import { environments } from '../../stacks/environments/index.js';
import { inputOf } from '../support/platform.js';

async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path.slice(dir.length + 1)] = await readFile(path, 'utf8');
    }
  }
  return out;
}

describe('synth', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'plinth-synth-'));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(work, { recursive: true, force: true });
  });

  it('writes one directory per environment and one file per chart, in apply order', async () => {
    await synthesize(join(work, 'dist'));
    expect((await readdir(join(work, 'dist'))).sort()).toEqual(Object.keys(environments).sort());
    expect(await readdir(join(work, 'dist', 'local'))).toEqual([
      '00-namespace.k8s.yaml',
      '10-rbac.k8s.yaml',
      '20-teams.k8s.yaml',
      '25-object-store.k8s.yaml',
      '30-database.k8s.yaml',
      '40-controller.k8s.yaml',
      '50-tracking.k8s.yaml',
      '60-ingress.k8s.yaml',
      '70-monitoring.k8s.yaml',
    ]);
  });

  it('is byte-identical across runs', async () => {
    await synthesize(join(work, 'a'));
    await synthesize(join(work, 'b'));
    const a = await readTree(join(work, 'a'));
    const b = await readTree(join(work, 'b'));
    expect(Object.keys(a).length).toBeGreaterThan(20);
    expect(b).toEqual(a);
  });

  it('leaves dist/ untouched when any environment is invalid', async () => {
    const dist = join(work, 'dist');
    await synthesize(dist);
    await mkdir(join(dist, 'local'), { recursive: true });
    await writeFile(join(dist, 'local', 'marker'), 'previous synth');
    const before = await readTree(dist);

    const broken = inputOf('onprem');
    broken.teams![0]!.quota.gpu = -1;
    await expect(synthesize(dist, { ...environments, onprem: broken })).rejects.toThrow(
      /environment "onprem":\n {2}- teams\[0\]\.quota\.gpu: must be 0 or more/,
    );
    expect(await readTree(dist)).toEqual(before);
    expect((await readdir(dist)).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('matches the golden manifests for local', async () => {
    await synthesize(join(work, 'dist'), { local: environments['local'] });
    const files = await readTree(join(work, 'dist', 'local'));
    for (const [name, content] of Object.entries(files)) {
      await expect(content).toMatchFileSnapshot(`__golden__/local/${name}`);
    }
  });
});
