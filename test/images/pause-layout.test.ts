import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltImage, buildDefinitions, buildImages, builtImage } from '../../images/builder/build-image.js';
import { MEDIA_TYPES, REF_NAME } from '../../images/builder/oci-layout.js';
import { IMAGES } from '../../images/definitions/index.js';
import { imageReference, LOCAL_REGISTRY } from '../../images/reference.js';

/** The pause image, built into a cache of the test's own: a static binary in an empty root, built in a second. */
const cache = mkdtempSync(join(tmpdir(), 'plinth-images-'));
const previousCache = process.env['PLINTH_CACHE_DIR'];
let image: BuiltImage;
const printed: string[] = [];

beforeAll(async () => {
  process.env['PLINTH_CACHE_DIR'] = cache;
  [image] = (await buildImages(['pause'], (line) => printed.push(line))) as [BuiltImage];
});

afterAll(() => {
  if (previousCache === undefined) delete process.env['PLINTH_CACHE_DIR'];
  else process.env['PLINTH_CACHE_DIR'] = previousCache;
  rmSync(cache, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const blob = (digest: string) => readFileSync(join(image.layout, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
const json = (bytes: Buffer) => JSON.parse(bytes.toString('utf8'));

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

describe('the pause image as built', () => {
  it('is in the cache under its name and hash, named by its full reference', () => {
    const reference = imageReference('pause', LOCAL_REGISTRY);
    expect(image.reference).toBe(reference);
    expect(image.layout).toBe(join(cache, 'images', `pause-${reference.split(':').pop()}`, 'layout'));
    expect(json(readFileSync(join(image.layout, 'oci-layout')))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = json(readFileSync(join(image.layout, 'index.json')));
    expect(index.mediaType).toBe(MEDIA_TYPES.index);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].annotations[REF_NAME]).toBe(reference);
    expect(index.manifests[0].digest).toBe(image.manifestDigest);
    expect(printed.some((line) => /^\[images\] pause \d+s: built plinth\.local\/pause:/.test(line))).toBe(true);
  });

  it('holds every blob under the sha256 of its content', () => {
    const blobs = readdirSync(join(image.layout, 'blobs', 'sha256'));
    expect(blobs).toHaveLength(3);
    for (const name of blobs) expect(sha256(blob(name))).toBe(name);
  });

  it('resolves index -> manifest -> config and layer, each of the size its descriptor says', () => {
    const manifest = json(blob(image.manifestDigest));
    expect(manifest.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(manifest.config.mediaType).toBe(MEDIA_TYPES.config);
    const descriptors: Descriptor[] = [manifest.config, ...manifest.layers];
    for (const d of descriptors) expect(blob(d.digest).length).toBe(d.size);
    expect(manifest.layers.map((l: Descriptor) => l.mediaType)).toEqual([MEDIA_TYPES.layer]);

    const config = json(blob(manifest.config.digest));
    expect(config.os).toBe('linux');
    expect(config.config.User).toBe('65535:65535');
    expect(config.config.Entrypoint).toEqual(['/pause']);
    // The config names the layer by the digest of its uncompressed tar.
    expect(config.rootfs.diff_ids).toEqual([`sha256:${sha256(gunzipSync(blob(manifest.layers[0].digest)))}`]);
  });

  it("has one layer with /pause alone, executable and root's", () => {
    const manifest = json(blob(image.manifestDigest));
    const layer = join(image.layout, 'blobs', 'sha256', manifest.layers[0].digest.replace('sha256:', ''));
    const listing = spawnSync('tar', ['--list', '--verbose', '--numeric-owner', '--gzip', `--file=${layer}`], {
      encoding: 'utf8',
    });
    const lines = listing.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 pause$/);
  });

  it('runs: /pause waits until SIGTERM, then exits 0', async () => {
    const manifest = json(blob(image.manifestDigest));
    const root = mkdtempSync(join(tmpdir(), 'plinth-pause-root-'));
    try {
      const layer = join(image.layout, 'blobs', 'sha256', manifest.layers[0].digest.replace('sha256:', ''));
      expect(spawnSync('tar', ['--extract', '--gzip', `--file=${layer}`, `--directory=${root}`]).status).toBe(0);
      const pause = spawn(join(root, 'pause'), [], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => pause.on('exit', (code) => resolve(code)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(pause.exitCode).toBeNull();
      pause.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is archived whole in image.tar, for ctr images import', () => {
    const listing = spawnSync('tar', ['--list', `--file=${image.archive}`], { encoding: 'utf8' });
    const blobs = readdirSync(join(image.layout, 'blobs', 'sha256')).map((name) => `blobs/sha256/${name}`);
    expect(
      listing.stdout
        .trim()
        .split('\n')
        .filter((entry) => !entry.endsWith('/')),
    ).toEqual(expect.arrayContaining(['oci-layout', 'index.json', ...blobs]));
  });

  // Each listing starts the CLI through tsx: a second alone, more beside the other test files.
  it(
    'is listed with its digest and the layout a push copies from (npm run -s images -- list)',
    { timeout: 60_000 },
    () => {
      const list = (...args: string[]) => {
        const run = spawnSync(
          join(fileURLToPath(new URL('../../node_modules/.bin', import.meta.url)), 'tsx'),
          ['images/cli.ts', 'list', ...args],
          {
            cwd: fileURLToPath(new URL('../..', import.meta.url)),
            env: { ...process.env, PLINTH_CACHE_DIR: cache },
            encoding: 'utf8',
          },
        );
        return { status: run.status, lines: run.stdout.trim().split('\n'), stderr: run.stderr };
      };
      const registry = 'registry.example.com/plinth';
      const reference = imageReference('pause', registry);
      expect(list('--layouts', '--registry', registry, 'pause')).toMatchObject({
        status: 0,
        lines: [`pause\t${reference}\t${image.layout}`],
      });
      expect(list('--digests', '--layouts', '--registry', registry, 'pause').lines).toEqual([
        `pause\t${reference}@${image.manifestDigest}\t${image.layout}`,
      ]);
      // Only a built image has a layout to push from.
      const unbuilt = list('--layouts', 'controller');
      expect(unbuilt.status).toBe(1);
      expect(unbuilt.stderr).toContain(
        'not built for their current inputs: controller; run: npm run images -- build controller',
      );
    },
  );

  it('is not built again while its inputs stay the same', async () => {
    const lines: string[] = [];
    const [again] = await buildImages(['pause'], (line) => lines.push(line));
    expect(again).toEqual(image);
    expect(lines).toEqual([]);
    expect(builtImage('pause')).toEqual(image);
  });

  it('leaves nothing behind when a build fails', async () => {
    const pause = IMAGES.find((i) => i.name === 'pause')!;
    // gcc cannot write its output over a folder.
    const broken = {
      ...pause,
      name: 'broken',
      steps: [{ kind: 'static-c' as const, source: 'images/definitions/pause.c', to: '/' }],
    };
    await expect(buildDefinitions([broken], () => {})).rejects.toThrow(/gcc .* failed/);
    expect(
      readdirSync(join(cache, 'images')).filter((entry) => entry !== 'pip' && !entry.startsWith('pause-')),
    ).toEqual([]);
  });
});
