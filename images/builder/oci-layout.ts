/**
 * An OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * the config and manifest as content-addressed blobs beside the layer, and an index.json that
 * names the manifest with the image's full reference, which `ctr images import` takes as its
 * name. Beside it, the same layout as one tar, the form `ctr images import` reads.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ociArchitecture } from '../architecture.js';
import type { ImageDefinition } from '../definition.js';
import { runCommand } from './command.js';
import type { Layer } from './layer.js';
import { REPRODUCIBLE_TAR } from './layer.js';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The annotation the image-layout spec names a manifest with; containerd reads a full reference from it. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** What the config's dates say: nothing, so that the config depends on the image's inputs alone. */
const EPOCH = '1970-01-01T00:00:00Z';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export function blobsFolder(layout: string): string {
  return join(layout, 'blobs', 'sha256');
}

function writeBlob(layout: string, mediaType: string, document: unknown): Descriptor {
  const bytes = Buffer.from(JSON.stringify(document));
  const digest = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(blobsFolder(layout), digest), bytes);
  return { mediaType, digest: `sha256:${digest}`, size: bytes.length };
}

/** Debian's default search path, which a runtime does not add to an image's environment. */
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function imageConfig(image: ImageDefinition, layer: Layer): unknown {
  const env = Object.entries(image.env).map(([key, value]) => `${key}=${value}`);
  return {
    created: EPOCH,
    architecture: ociArchitecture(),
    os: 'linux',
    config: {
      User: `${image.user.uid}:${image.user.gid}`,
      Env: image.env['PATH'] ? env : [DEFAULT_PATH, ...env],
      ...(image.entrypoint.length > 0 ? { Entrypoint: image.entrypoint } : {}),
      ...(image.cmd.length > 0 ? { Cmd: image.cmd } : {}),
      WorkingDir: image.workdir,
    },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created: EPOCH, created_by: `npm run images: ${image.name}` }],
  };
}

/** Writes the layout's documents around a layer already in its blobs; returns the manifest's descriptor. */
export function writeLayout(layout: string, image: ImageDefinition, layer: Layer, reference: string): Descriptor {
  mkdirSync(blobsFolder(layout), { recursive: true });
  const config = writeBlob(layout, MEDIA_TYPES.config, imageConfig(image, layer));
  const manifest = writeBlob(layout, MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config,
    layers: [{ mediaType: MEDIA_TYPES.layer, digest: layer.digest, size: layer.size }],
  });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [
        {
          ...manifest,
          platform: { architecture: ociArchitecture(), os: 'linux' },
          annotations: { [REF_NAME]: reference },
        },
      ],
    }),
  );
  return manifest;
}

/** The manifest the layout's index names, and the reference it names it by. */
export function readLayoutIndex(layout: string): { reference: string; manifest: Descriptor } {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: (Descriptor & { annotations?: Record<string, string> })[];
  };
  const [manifest] = index.manifests;
  const reference = manifest?.annotations?.[REF_NAME];
  if (!manifest || !reference) throw new Error(`${layout}/index.json names no image`);
  return { reference, manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size } };
}

/** The layout as one tar, for `ctr images import`. */
export async function archiveLayout(layout: string, archive: string): Promise<void> {
  await runCommand('tar', [
    '--create',
    `--file=${archive}`,
    `--directory=${layout}`,
    ...REPRODUCIBLE_TAR,
    '--owner=0',
    '--group=0',
    '--',
    'blobs',
    'index.json',
    'oci-layout',
  ]);
}
