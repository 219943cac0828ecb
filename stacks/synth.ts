import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Yaml } from 'cdk8s';
import { PlatformConfigError, validatePlatformConfig } from '../model/config/validate.js';
import { renderPlatform, type RenderedChart } from '../constructs/platform.js';
import { environments } from './environments/index.js';

/**
 * `npm run synth` and `cdk8s synth`: validates every environment, then writes dist/<env>/, one
 * file per chart. Files are staged and renamed into place, so a failure leaves dist/ as it was.
 */
export async function synthesize(outdir: string, inputs: Record<string, unknown> = environments): Promise<void> {
  const started = performance.now();
  // Validate everything before writing anything; report every environment's problems at once.
  const configs = [];
  const errors: PlatformConfigError[] = [];
  for (const [name, input] of Object.entries(inputs)) {
    try {
      configs.push(validatePlatformConfig(name, input));
    } catch (error) {
      if (error instanceof PlatformConfigError) errors.push(error);
      else throw error;
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, errors.map((e) => e.message).join('\n'));

  const rendered = configs.map((config) => ({ name: config.name, charts: renderPlatform(config) }));

  await mkdir(outdir, { recursive: true });
  const staging = await mkdtemp(join(outdir, '.staging-'));
  try {
    for (const env of rendered) await writeEnvironment(join(staging, env.name), env.charts);
    for (const env of rendered) {
      const target = join(outdir, env.name);
      const previous = join(staging, `${env.name}.previous`);
      await rename(target, previous).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await rename(join(staging, env.name), target);
      const objects = env.charts.reduce((n, c) => n + c.objects.length, 0);
      console.error(`synthesized ${env.name}: ${objects} objects in ${env.charts.length} files -> ${target}`);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  console.error(`synthesized ${rendered.length} environments in ${Math.round(performance.now() - started)} ms`);
}

async function writeEnvironment(dir: string, charts: RenderedChart[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const chart of charts) {
    await writeFile(join(dir, `${chart.name}.k8s.yaml`), Yaml.stringify(...chart.objects));
  }
}

if (import.meta.url === `file://${process.argv[1] ? resolve(process.argv[1]) : ''}`) {
  synthesize(resolve(process.env['CDK8S_OUTDIR'] ?? 'dist')).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
