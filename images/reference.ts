/**
 * An image's reference, `<registry>/<name>:<hash>`, where the hash is of everything the image is
 * made from: its definition, the repository files it reads, the builder's own code and the
 * architecture. It is computed without building, from files alone, so that `npm run synth` names
 * the images of a fresh clone, and an image whose inputs did not change keeps its reference.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ociArchitecture } from './architecture.js';
import type { ImageDefinition } from './definition.js';
import { IMAGES } from './definitions/index.js';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));

/** The registry of images built here and loaded into the local cluster's nodes, never pushed. */
export const LOCAL_REGISTRY = 'plinth.local';

/** The builder's code, an input of every image: a change to how images are made makes new ones. */
const BUILDER = 'images/builder';

/** Hex digits of the hash in a tag: 64 bits tell apart every build of an image anyone keeps. */
const TAG_LENGTH = 16;

// A host (with an optional port) and optional path components, as the distribution spec writes them.
const REGISTRY =
  /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export const IMAGE_NAMES: readonly string[] = IMAGES.map((image) => image.name);

export function imageDefinition(name: string): ImageDefinition {
  const image = IMAGES.find((i) => i.name === name);
  if (!image) throw new Error(`unknown image "${name}"; allowed: ${IMAGE_NAMES.join(', ')}`);
  return image;
}

const TOOLCHAIN_VERSIONS = 'local-cluster/toolchain/versions.env';
const TOOLCHAIN_BUILD = 'local-cluster/toolchain/build.sh';

/** Repository files the image is made from, besides its definition: those its steps name, its inputs, the builder. */
export function imageInputPaths(image: ImageDefinition): string[] {
  const named = image.steps.flatMap((step) => {
    switch (step.kind) {
      case 'pip':
        return [step.lock];
      case 'static-c':
        return [step.source];
      case 'node':
      case 'controller-bundle':
        return [];
      case 'toolchain-binary':
        // The pinned version and how it is built decide the binary.
        return [TOOLCHAIN_VERSIONS, TOOLCHAIN_BUILD];
    }
  });
  return [...new Set([...named, ...image.inputs, BUILDER])].sort();
}

/** Files under a repository path (a file or a folder), relative to `root`, in a stable order. */
function filesUnder(root: string, path: string): string[] {
  const absolute = join(root, path);
  let stat;
  try {
    stat = statSync(absolute);
  } catch {
    throw new Error(`image input "${path}" does not exist under ${root}`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(absolute, { recursive: true, encoding: 'utf8' })
    .filter((entry) => statSync(join(absolute, entry)).isFile())
    .map((entry) => relative(root, join(absolute, entry)).split(sep).join('/'))
    .sort();
}

/** JSON with object keys sorted, so that the order a definition is written in does not count. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const hashes = new Map<ImageDefinition, string>();

/** The hash of the image's inputs, read from the repository at `root` (this one by default). */
export function imageInputHash(image: ImageDefinition, root = REPOSITORY): string {
  const remembered = root === REPOSITORY ? hashes.get(image) : undefined;
  if (remembered) return remembered;
  const hash = createHash('sha256');
  hash.update(canonicalJson({ definition: image, architecture: ociArchitecture() }));
  const files = [...new Set(imageInputPaths(image).flatMap((path) => filesUnder(root, path)))].sort();
  for (const file of files) {
    // Each file by its path and its content's own hash, so that no two file lists hash alike.
    const content = createHash('sha256')
      .update(readFileSync(join(root, file)))
      .digest('hex');
    hash.update(`${file}\0${content}\n`);
  }
  const tag = hash.digest('hex').slice(0, TAG_LENGTH);
  if (root === REPOSITORY) hashes.set(image, tag);
  return tag;
}

/** What a registry may be, as errors say it. */
export const REGISTRY_ALLOWED = `a registry host with an optional path, like ${LOCAL_REGISTRY} or registry.example.com/plinth (no scheme, no trailing slash, lowercase path)`;

export function isRegistry(registry: string): boolean {
  return REGISTRY.test(registry);
}

export function checkRegistry(registry: string): void {
  if (!isRegistry(registry)) {
    throw new Error(`image registry "${registry}" is not ${REGISTRY_ALLOWED}`);
  }
}

/** `<registry>/<name>:<hash>`; the platform config names each image this way. */
export function imageReference(name: string, registry: string): string {
  checkRegistry(registry);
  const image = imageDefinition(name);
  return `${registry}/${image.name}:${imageInputHash(image)}`;
}
