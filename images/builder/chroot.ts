/**
 * Runs a command inside an image's root filesystem while it is built (pip, for one). The command
 * runs in a mount namespace of its own, so every mount it needs (/proc, /dev, a scratch /tmp, the
 * host's name resolution) vanishes with it, even when the build is interrupted; the root keeps
 * nothing of the host.
 */
import { existsSync } from 'node:fs';
import { runCommand } from './command.js';

export interface InRoot {
  /** Environment of the command, which sees nothing else of the builder's. */
  readonly env: Readonly<Record<string, string>>;
  /** A host folder the command reads at /tmp/build (read-only). */
  readonly buildFiles?: string;
  /** A host folder the command may write at /tmp/cache, kept between builds (a download cache). */
  readonly cache?: string;
  readonly capture?: boolean;
}

/** A root's own /tmp is covered by a scratch one; these are where the host folders appear in it. */
export const BUILD_FILES = '/tmp/build';
export const BUILD_CACHE = '/tmp/cache';

// Files that exist on the host but not in the root get an empty placeholder to mount over, which
// is removed afterwards; the root's own files are covered while the command runs and kept.
const SCRIPT = String.raw`
set -eu
root=$1; shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
if [ -n "$PLINTH_BUILD_FILES" ]; then
  mkdir "$root${BUILD_FILES}" && mount --bind "$PLINTH_BUILD_FILES" "$root${BUILD_FILES}"
  mount -o remount,bind,ro "$root${BUILD_FILES}"
fi
if [ -n "$PLINTH_BUILD_CACHE" ]; then
  mkdir "$root${BUILD_CACHE}" && mount --bind "$PLINTH_BUILD_CACHE" "$root${BUILD_CACHE}"
fi
placeholders=
for file in /etc/resolv.conf /etc/hosts; do
  # A symlink would be followed out of the root: a root that has one resolves names its own way.
  [ -e "$file" ] && [ ! -L "$root$file" ] || continue
  if [ ! -e "$root$file" ]; then : > "$root$file"; placeholders="$placeholders $file"; fi
  mount --bind "$file" "$root$file"
done
status=0
chroot "$root" "$@" || status=$?
for file in $placeholders; do umount "$root$file"; rm "$root$file"; done
exit "$status"
`;

export function runInRoot(root: string, command: readonly string[], options: InRoot): Promise<string> {
  if (options.buildFiles && !existsSync(options.buildFiles)) throw new Error(`no build files at ${options.buildFiles}`);
  const env = Object.entries(options.env).map(([key, value]) => `${key}=${value}`);
  return runCommand(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--fork',
      '--',
      'sh',
      '-c',
      SCRIPT,
      'sh',
      root,
      '/usr/bin/env',
      '-i',
      ...env,
      ...command,
    ],
    {
      env: {
        PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        PLINTH_BUILD_FILES: options.buildFiles ?? '',
        PLINTH_BUILD_CACHE: options.cache ?? '',
      },
      capture: options.capture,
    },
  );
}
