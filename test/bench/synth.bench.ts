/**
 * `npm run bench:synth`: synthesizes every environment into a scratch directory and prints the
 * wall time and the object count per environment. Target: all environments in under 3 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { renderPlatform } from '../../constructs/platform.js';
import { environments } from '../../stacks/environments/index.js';
import { synthesize } from '../../stacks/synth.js';

const TARGET_MS = 3000;
const out = await mkdtemp(join(tmpdir(), 'plinth-bench-synth-'));
try {
  const started = performance.now();
  await synthesize(out);
  const wallMs = performance.now() - started;

  console.log('\nenvironment  objects  files');
  for (const [name, input] of Object.entries(environments)) {
    const charts = renderPlatform(validatePlatformConfig(name, input));
    const objects = charts.reduce((n, c) => n + c.objects.length, 0);
    console.log(`${name.padEnd(12)} ${String(objects).padStart(7)}  ${String(charts.length).padStart(5)}`);
  }
  console.log(
    `\nsynth of ${Object.keys(environments).length} environments: ${wallMs.toFixed(0)} ms (target < ${TARGET_MS} ms)`,
  );
  console.log(`whole process so far, module loading included: ${performance.now().toFixed(0)} ms`);
} finally {
  await rm(out, { recursive: true, force: true });
}
