/**
 * `npm run build:policy-pack`: writes the policy pack as the Pulumi engine loads it, into
 * build/policy-pack/. Pulumi's policy runner `require`s the pack (and would compile TypeScript
 * with ts-node), so the pack is bundled into one CommonJS file; @pulumi/* stay external so that
 * the pack shares the engine-facing runtime installed beside it.
 */
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A CommonJS bundle has no import.meta: each of the repository's modules gets its own source's URL
 * in its place, as it has when run from source. The environments the rules consult name their
 * images by hashes of repository files (images/reference.ts), so the pack reads this checkout.
 */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      if (!path.startsWith(repo) || path.includes('/node_modules/')) return undefined;
      const source = await readFile(path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)), loader: 'ts' };
    });
  },
};

/** Writes the pack into `target`, which must sit where @pulumi/pulumi and @pulumi/policy resolve. */
export async function buildPolicyPack(target: string): Promise<void> {
  const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
  await mkdir(dirname(target), { recursive: true });
  // Staged beside the target and renamed into place: a failed build never leaves half a pack.
  const stage = await mkdtemp(join(dirname(target), '.policy-pack-'));
  try {
    await build({
      entryPoints: [join(repo, 'policies', 'index.ts')],
      outfile: join(stage, 'index.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: ['@pulumi/pulumi', '@pulumi/policy'],
      plugins: [sourceUrls],
      logLevel: 'warning',
    });
    await cp(join(repo, 'policies', 'PulumiPolicy.yaml'), join(stage, 'PulumiPolicy.yaml'));
    await writeFile(
      join(stage, 'package.json'),
      JSON.stringify({ name: 'plinth-policies', version, main: 'index.js' }),
    );
    await rm(target, { recursive: true, force: true });
    await rename(stage, target);
  } catch (error) {
    await rm(stage, { recursive: true, force: true });
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = join(repo, 'build', 'policy-pack');
  buildPolicyPack(target).then(
    () => console.error(`policy pack written to ${target}: pulumi preview --policy-pack build/policy-pack`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
