/**
 * Builds images into the cache: ~/.cache/plinth/images/<name>-<hash>/ holds the image as an OCI
 * layout (`layout/`) and as one tar of it (`image.tar`). An image whose folder exists is not built
 * again: its hash covers everything it is made from.
 */
import { onPath } from '../../local-cluster/real-node-preflight.js';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDefinition } from '../definition.js';
import { imageDefinition, imageInputHash, LOCAL_REGISTRY } from '../reference.js';
import { addAccount } from './account.js';
import { imagesCacheDir } from './cache.js';
import { runCommand } from './command.js';
import { debianBase } from './debian-base.js';
import { writeLayer } from './layer.js';
import { archiveLayout, blobsFolder, readLayoutIndex, writeLayout } from './oci-layout.js';
import { type Print, printToStderr, Progress } from './progress.js';
import { commitStaging, removeAbandonedStaging, stagingFolder } from './staging.js';
import { checkSteps, runSteps } from './steps.js';

export interface BuiltImage {
  readonly name: string;
  /** In the local registry, as the layout's index names it. */
  readonly reference: string;
  /** sha256:<hex> of the manifest: `<reference>@<digest>` pins the image. */
  readonly manifestDigest: string;
  readonly layout: string;
  /** The layout as one tar, for `ctr images import`. */
  readonly archive: string;
}

function imageFolder(image: ImageDefinition): string {
  return join(imagesCacheDir(), `${image.name}-${imageInputHash(image)}`);
}

function builtAt(name: string, folder: string): BuiltImage {
  const layout = join(folder, 'layout');
  const { reference, manifest } = readLayoutIndex(layout);
  return { name, reference, manifestDigest: manifest.digest, layout, archive: join(folder, 'image.tar') };
}

/** The image as built for its current inputs, or undefined when it has not been built. */
export function builtImage(name: string): BuiltImage | undefined {
  const folder = imageFolder(imageDefinition(name));
  return existsSync(folder) ? builtAt(name, folder) : undefined;
}

/** Throws, before anything is built, if the image cannot be built on this machine, saying what it lacks. */
function checkCanBuild(image: ImageDefinition): void {
  checkSteps(image);
  const tools = [
    'tar',
    ...(image.base.kind === 'debian' ? ['mmdebstrap', 'unshare', 'chroot'] : []),
    ...(image.steps.some((step) => step.kind === 'static-c') ? ['gcc'] : []),
  ];
  const missing = tools.filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    throw new Error(`image "${image.name}" needs ${missing.join(', ')} on PATH to build (see README, Images)`);
  }
  if (image.base.kind === 'debian' && process.getuid?.() !== 0) {
    throw new Error(
      `image "${image.name}" is built as root: mmdebstrap and chroot make its Debian root filesystem; run npm run images as root`,
    );
  }
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function build(image: ImageDefinition, print: Print): Promise<BuiltImage> {
  const folder = imageFolder(image);
  const reference = `${LOCAL_REGISTRY}/${image.name}:${imageInputHash(image)}`;
  const progress = new Progress(image.name, print);
  const stage = stagingFolder(folder);
  try {
    const root = join(stage, 'rootfs');
    if (image.base.kind === 'debian') {
      const base = await debianBase(image.base.packages, progress);
      await progress.step('copying the Debian base', () => runCommand('cp', ['-a', base, root]));
      addAccount(root, image.user);
    } else {
      mkdirSync(root);
    }
    await runSteps(image, root, join(stage, 'scratch'), progress);
    // A runtime mounts its own /dev; the base's device files have no place in a layer.
    for (const entry of existsSync(join(root, 'dev')) ? readdirSync(join(root, 'dev')) : []) {
      rmSync(join(root, 'dev', entry), { recursive: true });
    }
    const layout = join(stage, 'layout');
    mkdirSync(blobsFolder(layout), { recursive: true });
    const layer = await progress.step('writing the layer', () =>
      writeLayer(root, blobsFolder(layout), image.base.kind === 'scratch'),
    );
    rmSync(root, { recursive: true });
    rmSync(join(stage, 'scratch'), { recursive: true, force: true });
    writeLayout(layout, image, layer, reference);
    await progress.step('writing image.tar', () => archiveLayout(layout, join(stage, 'image.tar')));
    commitStaging(stage, folder);
    progress.say(`built ${reference}: ${megabytes(layer.size)} compressed, ${megabytes(layer.unpackedSize)} unpacked`);
    return builtAt(image.name, folder);
  } catch (error) {
    rmSync(stage, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Builds the named images that are not built yet, one at a time, and returns them all. Names are
 * checked, and what each build needs, before anything is built.
 */
export function buildImages(names: readonly string[], print: Print = printToStderr): Promise<BuiltImage[]> {
  return buildDefinitions(names.map(imageDefinition), print);
}

/** Builds images from their definitions, as `buildImages` does from their names. */
export async function buildDefinitions(images: readonly ImageDefinition[], print: Print): Promise<BuiltImage[]> {
  const missing = images.filter((image) => !existsSync(imageFolder(image)));
  missing.forEach(checkCanBuild);
  mkdirSync(imagesCacheDir(), { recursive: true });
  removeAbandonedStaging(imagesCacheDir());
  const built: BuiltImage[] = [];
  for (const image of images) {
    built.push(missing.includes(image) ? await build(image, print) : builtAt(image.name, imageFolder(image)));
  }
  return built;
}
