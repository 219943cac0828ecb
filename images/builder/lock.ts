/**
 * `npm run images -- lock <name>`: resolves an image's pip requirements with the python3 of its
 * own Debian base and writes every distribution they need, pinned, into the step's lock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageDefinition } from '../reference.js';
import { imagesCacheDir } from './cache.js';
import { runCommand } from './command.js';
import { debianBase } from './debian-base.js';
import { pipResolve } from './pip.js';
import { type Print, printToStderr, Progress } from './progress.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

export async function lockImage(name: string, print: Print = printToStderr): Promise<string[]> {
  const image = imageDefinition(name);
  const steps = image.steps.flatMap((step) => (step.kind === 'pip' ? [step] : []));
  if (steps.length === 0 || image.base.kind !== 'debian') {
    throw new Error(`image "${name}" installs no pip packages on a Debian base: it has nothing to lock`);
  }
  if (process.getuid?.() !== 0) throw new Error(`locking image "${name}" runs pip in its Debian base: run it as root`);
  const progress = new Progress(name, print);
  const base = await debianBase(image.base.packages, progress);
  const written: string[] = [];
  for (const step of steps) {
    // A copy of the base, so that the resolver writes nothing into the one the images start from.
    const work = mkdtempSync(join(imagesCacheDir(), '.lock-'));
    try {
      await runCommand('cp', ['-a', base, join(work, 'rootfs')]);
      const pins = await progress.step(`resolving ${step.requirements.join(', ')}`, () =>
        pipResolve(join(work, 'rootfs'), step.requirements, join(work, 'files')),
      );
      const header = [
        `# The ${name} image's pip lock: every distribution its requirements need, as the python3 of its Debian base resolves them.`,
        `# Written by \`npm run images -- lock ${name}\` from the requirements in images/definitions/${name}.ts; edit those.`,
      ];
      writeFileSync(join(REPOSITORY, step.lock), `${[...header, ...pins].join('\n')}\n`);
      progress.say(`wrote ${step.lock}: ${pins.length} distributions`);
      written.push(step.lock);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return written;
}
