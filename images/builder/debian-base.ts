/**
 * Debian root filesystems made by mmdebstrap from Debian's packages, one per package set, kept in
 * the cache and copied by each image that starts from it: images with the same packages (python
 * and tracking) share one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagesCacheDir } from './cache.js';
import { runCommand } from './command.js';
import type { Progress } from './progress.js';
import { commitStaging, stagingFolder } from './staging.js';

/** Debian 12: its python3 is 3.11, which the pinned wheels are for. */
export const DEBIAN_SUITE = 'bookworm';

const MMDEBSTRAP_OPTIONS = [
  // Essential packages and apt, as a Debian container image has; the packages add what they need.
  '--variant=minbase',
  '--mode=root',
  // /bin, /lib and /sbin as links into /usr, as Debian 12 lays them out, without the usrmerge
  // package (and the perl it pulls in).
  '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
  // Documentation, manual pages and translations are never read in a container; licences stay.
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/info/*',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
  '--dpkgopt=path-include=/usr/share/locale/locale.alias',
  // mmdebstrap copies the host's name resolution in while it installs; the runtime provides a
  // container's own.
  '--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"',
];

function baseHash(packages: readonly string[]): string {
  // This file's text stands for the options above and the way they are used.
  const source = readFileSync(fileURLToPath(import.meta.url));
  return createHash('sha256')
    .update(JSON.stringify({ suite: DEBIAN_SUITE, packages: [...packages].sort() }))
    .update(source)
    .digest('hex')
    .slice(0, 16);
}

/** The root filesystem of Debian minbase with `packages`, made on first use; never to be written to. */
export async function debianBase(packages: readonly string[], progress: Progress): Promise<string> {
  const folder = join(imagesCacheDir(), `debian-${DEBIAN_SUITE}-${baseHash(packages)}`);
  const rootfs = join(folder, 'rootfs');
  if (existsSync(rootfs)) return rootfs;
  const stage = stagingFolder(folder);
  const described = packages.length > 0 ? packages.join(', ') : 'no extra packages';
  await progress.step(`making the Debian ${DEBIAN_SUITE} base with mmdebstrap (${described})`, () =>
    runCommand(
      'mmdebstrap',
      [
        ...MMDEBSTRAP_OPTIONS,
        ...(packages.length > 0 ? [`--include=${packages.join(',')}`] : []),
        DEBIAN_SUITE,
        join(stage, 'rootfs'),
      ],
      // Files dated at 0 and Python byte code checked by hash (py_compile reads this), so that the
      // layer's fixed file dates do not make byte code stale.
      { env: { ...process.env, SOURCE_DATE_EPOCH: '0' } },
    ),
  );
  commitStaging(stage, folder);
  return rootfs;
}
