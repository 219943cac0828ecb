/** Runs an image's steps in its root filesystem, in order. */
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleController } from '../../controller/bundle.js';
import type { ImageDefinition, ImageStep } from '../definition.js';
import { runCommand } from './command.js';
import { ensurePlatformToolchain } from '../../local-cluster/toolchain.js';
import { pipInstall, staleLock, lockLines } from './pip.js';
import type { Progress } from './progress.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** A path inside the root, which the image names absolutely. */
function inRoot(root: string, path: string): string {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  return target;
}

function describe(step: ImageStep): string {
  switch (step.kind) {
    case 'pip':
      return `pip install of ${lockLines(join(REPOSITORY, step.lock)).length} locked wheels (${step.requirements.join(', ')})`;
    case 'static-c':
      return `gcc -static ${step.source} -> ${step.to}`;
    case 'node':
      return `Node.js binary -> ${step.to}`;
    case 'controller-bundle':
      return `controller bundle -> ${step.to}`;
    case 'toolchain-binary':
      return `toolchain's ${step.binary} -> ${step.to}`;
  }
}

/** Throws if a step cannot run as written; checked before anything is built. */
export function checkSteps(image: ImageDefinition): void {
  for (const step of image.steps) {
    if (step.kind === 'pip') {
      const stale = staleLock(step, lockLines(join(REPOSITORY, step.lock)), image.name);
      if (stale) throw new Error(stale);
    }
  }
}

/** `scratch` is a host folder a step may use for files of its own (outside the root). */
export async function runSteps(
  image: ImageDefinition,
  root: string,
  scratch: string,
  progress: Progress,
): Promise<void> {
  for (const [index, step] of image.steps.entries()) {
    await progress.step(describe(step), async () => {
      switch (step.kind) {
        case 'pip':
          return pipInstall(root, join(REPOSITORY, step.lock), join(scratch, `step-${index}`));
        case 'static-c': {
          const target = inRoot(root, step.to);
          await runCommand('gcc', [
            '-static',
            '-Os',
            '-s',
            '-Wall',
            '-Werror',
            '-o',
            target,
            join(REPOSITORY, step.source),
          ]);
          chmodSync(target, 0o755);
          return;
        }
        case 'node': {
          // The binary the `node` package installs; its version is locked in package-lock.json.
          const binary = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
          const target = inRoot(root, step.to);
          copyFileSync(binary, target);
          chmodSync(target, 0o755);
          return;
        }
        case 'controller-bundle':
          return bundleController(inRoot(root, step.to));
        case 'toolchain-binary': {
          const target = inRoot(root, step.to);
          copyFileSync(ensurePlatformToolchain()[step.binary], target);
          chmodSync(target, 0o755);
          return;
        }
      }
    });
  }
}
