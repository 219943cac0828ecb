import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { pinnedImage } from '../../model/config/primitives.js';
import { lockLines, staleLock } from '../../images/builder/pip.js';
import { imageConfig } from '../../images/builder/oci-layout.js';
import { IMAGES } from '../../images/definitions/index.js';
import {
  IMAGE_NAMES,
  imageInputHash,
  imageInputPaths,
  imageReference,
  LOCAL_REGISTRY,
} from '../../images/reference.js';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const aLayer = { digest: 'sha256:0', size: 0, diffId: 'sha256:0', unpackedSize: 0 };

describe('image definitions', () => {
  it.each(IMAGES.map((image) => [image.name, image] as const))('%s runs as a numeric non-root user', (_name, image) => {
    expect(image.user.uid).toBeGreaterThan(0);
    expect(image.user.gid).toBeGreaterThan(0);
    const { config } = imageConfig(image, aLayer) as { config: { User: string } };
    // A kubelet can check runAsNonRoot only against a numeric user.
    expect(config.User).toMatch(/^[1-9][0-9]*:[1-9][0-9]*$/);
  });

  it('names each image once', () => {
    expect(new Set(IMAGE_NAMES).size).toBe(IMAGES.length);
    expect(IMAGE_NAMES).toEqual(expect.arrayContaining(['pause', 'controller', 'init', 'python', 'tracking']));
  });

  it.each(
    IMAGES.flatMap((image) =>
      image.steps.flatMap((step) => (step.kind === 'pip' ? [[image.name, step] as const] : [])),
    ),
  )("%s's pip lock pins every distribution and holds what the image asks for", (name, step) => {
    const lock = lockLines(join(repository, step.lock));
    expect(lock.length).toBeGreaterThan(step.requirements.length);
    expect(staleLock(step, lock, name)).toBeUndefined();
  });

  it('says which lock is stale and how to rewrite it', () => {
    const step = { requirements: ['numpy==1.0.0'], lock: 'images/definitions/python.lock.txt' };
    const lock = lockLines(join(repository, step.lock));
    expect(staleLock(step, lock, 'python')).toMatch(
      /does not lock what image "python" asks for: numpy==1\.0\.0 \(locked: 2\.4\.6\); run: npm run images -- lock python/,
    );
  });
});

describe('imageReference', () => {
  it('is <registry>/<name>:<hash>, a pinned image the platform config accepts', () => {
    for (const name of IMAGE_NAMES) {
      const reference = imageReference(name, 'registry.example.com/plinth');
      expect(reference).toMatch(new RegExp(`^registry\\.example\\.com/plinth/${name}:[0-9a-f]{16}$`));
      expect(pinnedImage.safeParse(reference).success).toBe(true);
    }
    expect(imageReference('pause', LOCAL_REGISTRY)).toMatch(/^plinth\.local\/pause:/);
  });

  it('gives each image its own hash, the same on every call', () => {
    const hashes = IMAGES.map((image) => imageInputHash(image));
    expect(new Set(hashes).size).toBe(IMAGES.length);
    expect(IMAGES.map((image) => imageInputHash(image))).toEqual(hashes);
  });

  it('names the unknown image and the allowed ones', () => {
    expect(() => imageReference('cuda', LOCAL_REGISTRY)).toThrow(
      `unknown image "cuda"; allowed: ${IMAGE_NAMES.join(', ')}`,
    );
    expect(IMAGE_NAMES.join(', ')).toMatch(/^pause, .*object-store$/);
  });

  it('refuses a registry with a scheme or a trailing slash', () => {
    for (const registry of [
      'https://registry.example.com',
      'registry.example.com/',
      '',
      'Registry.example.com/Plinth',
    ]) {
      expect(() => imageReference('pause', registry)).toThrow(`image registry "${registry}" is not a registry host`);
    }
  });
});

describe('the hash of an image', () => {
  // A copy of what the pause image is made from, to change one file at a time.
  const root = mkdtempSync(join(tmpdir(), 'plinth-image-inputs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const pause = IMAGES.find((image) => image.name === 'pause')!;
  for (const path of imageInputPaths(pause)) cpSync(join(repository, path), join(root, path), { recursive: true });

  it('covers the files its steps name and the builder, read where they are', () => {
    expect(imageInputPaths(pause)).toEqual(['images/builder', 'images/definitions/pause.c']);
    expect(imageInputHash(pause, root)).toBe(imageInputHash(pause));
  });

  it('changes with a file the image is made from, with the builder, and with the definition', () => {
    const before = imageInputHash(pause, root);
    writeFileSync(join(root, 'images/definitions/pause.c'), 'int main(void) { return 0; }\n');
    const changedSource = imageInputHash(pause, root);
    expect(changedSource).not.toBe(before);
    writeFileSync(join(root, 'images/builder/new-step.ts'), 'export {};\n');
    expect(imageInputHash(pause, root)).not.toBe(changedSource);
    expect(imageInputHash({ ...pause, env: { TZ: 'UTC' } }, root)).not.toBe(imageInputHash(pause, root));
  });

  it('does not change with a file it is not made from', () => {
    const before = imageInputHash(pause, root);
    writeFileSync(join(root, 'README.md'), 'anything\n');
    expect(imageInputHash(pause, root)).toBe(before);
  });

  it('names an input that is missing', () => {
    expect(() => imageInputHash({ ...pause, inputs: ['no-such-folder'] }, root)).toThrow(
      `image input "no-such-folder" does not exist under ${root}`,
    );
  });
});
