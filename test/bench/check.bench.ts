/**
 * `npm run bench:check`: generates 10,000 objects (copies of the synthesized onprem platform under
 * new names) and times `plinth check` over them, as a whole process and for the rules alone.
 * Target: under 2 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { checkResources, violations } from '../../policies/check.js';
import { createContext } from '../../policies/context.js';
import { fromManifest } from '../../policies/resource.js';
import { objectsOf } from '../support/platform.js';

const TARGET = 10_000;
const platform = objectsOf('onprem');
const objects: Record<string, unknown>[] = [];
for (let copy = 0; objects.length < TARGET; copy++) {
  for (const o of platform) {
    if (objects.length === TARGET) break;
    // Each copy is a whole platform in namespaces of its own, so cross-object rules still hold.
    const clone = structuredClone(o) as { kind: string; metadata: { name: string; namespace?: string } };
    clone.metadata.name = `${clone.metadata.name}-${copy}`;
    if (clone.metadata.namespace) clone.metadata.namespace = `${clone.metadata.namespace}-${copy}`;
    objects.push(clone);
  }
}
const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-check-'));
try {
  const file = join(dir, 'manifests.yaml');
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));

  const started = performance.now();
  const run = spawnSync(process.execPath, ['bin/plinth.mjs', 'check', '--format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const processMs = performance.now() - started;
  if (run.status === 2) throw new Error(run.stderr);

  const resources = objects.map((o) => fromManifest(o));
  const rulesStarted = performance.now();
  const results = checkResources(createContext(resources));
  const rulesMs = performance.now() - rulesStarted;

  console.log(`objects: ${objects.length}, violations: ${violations(results).length} (exit ${run.status})`);
  console.log(
    `plinth check, whole process (start, parse, check, report): ${processMs.toFixed(0)} ms (target < 2000 ms)`,
  );
  console.log(`rules alone, in process: ${rulesMs.toFixed(0)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
