/**
 * An image's one layer: its root filesystem as a gzipped tar. GNU tar writes it, because it keeps
 * what a root filesystem holds (owners, modes, hard links, special files) exactly and can make
 * the archive reproducible: names sorted, every date 0, owners as numbers, and no access or change
 * times in pax headers. Node's zlib compresses it while the two digests are taken on the way.
 */
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** GNU tar options for an archive that depends on the files' contents, owners and modes alone. */
export const REPRODUCIBLE_TAR = [
  '--sort=name',
  '--mtime=@0',
  '--numeric-owner',
  '--format=posix',
  '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
];

export interface Layer {
  /** sha256 of the gzipped tar: the blob's name and the manifest's descriptor. */
  readonly digest: string;
  readonly size: number;
  /** sha256 of the tar itself: the config's diff_id. */
  readonly diffId: string;
  readonly unpackedSize: number;
}

function measuring(hash: Hash, count: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      count.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * Writes the layer of `root` into `blobs` (blobs/sha256). `rootOwned` records every file as
 * root's, for roots made by an unprivileged build whose files are the builder's.
 */
export async function writeLayer(root: string, blobs: string, rootOwned: boolean): Promise<Layer> {
  // The root's entries by name rather than `.`, so that members read `usr/bin/...` as in any image.
  const entries = readdirSync(root).sort();
  const tar = spawn(
    'tar',
    [
      '--create',
      '--file=-',
      `--directory=${root}`,
      ...REPRODUCIBLE_TAR,
      ...(rootOwned ? ['--owner=0', '--group=0'] : []),
      '--',
      ...entries,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar of ${root} failed (exit ${code})`))));
  });
  const unpacked = createHash('sha256');
  const packed = createHash('sha256');
  const unpackedCount = { bytes: 0 };
  const packedCount = { bytes: 0 };
  const partial = join(blobs, '.layer');
  await Promise.all([
    pipeline(
      tar.stdout,
      measuring(unpacked, unpackedCount),
      createGzip(),
      measuring(packed, packedCount),
      createWriteStream(partial),
    ),
    exited,
  ]);
  const digest = packed.digest('hex');
  renameSync(partial, join(blobs, digest));
  return {
    digest: `sha256:${digest}`,
    size: packedCount.bytes,
    diffId: `sha256:${unpacked.digest('hex')}`,
    unpackedSize: unpackedCount.bytes,
  };
}
