/**
 * Everything the builder keeps is made in a staging folder beside its final place and renamed
 * into it: an interrupted build leaves no half-written image or base, only a staging folder that
 * the next build removes once the process that made it is gone.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const PREFIX = '.stage-';

export function stagingFolder(final: string): string {
  const folder = join(dirname(final), `${PREFIX}${basename(final)}-${process.pid}`);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** Moves a finished staging folder into place; false when another build put one there first. */
export function commitStaging(folder: string, final: string): boolean {
  try {
    renameSync(folder, final);
    return true;
  } catch (error) {
    if (existsSync(final)) {
      rmSync(folder, { recursive: true, force: true });
      return false;
    }
    throw error;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes staging folders left in `parent` by builds that are no longer running. */
export function removeAbandonedStaging(parent: string): void {
  if (!existsSync(parent)) return;
  for (const entry of readdirSync(parent)) {
    const pid = Number(/^\.stage-.*-(\d+)$/.exec(entry)?.[1]);
    if (entry.startsWith(PREFIX) && pid && pid !== process.pid && !alive(pid)) {
      rmSync(join(parent, entry), { recursive: true, force: true });
    }
  }
}
