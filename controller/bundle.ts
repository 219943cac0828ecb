/**
 * How the controller ships: `main.ts` and exactly the packages it imports, bundled into one ES
 * module that Node.js runs alone. `npm run build:controller` writes build/controller.mjs (the
 * benchmarks run it); the controller image (`npm run images`) bundles the same way into its root.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repo = fileURLToPath(new URL('..', import.meta.url));

export async function bundleController(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(repo, 'controller', 'main.ts')],
    outfile,
    bundle: true,
    // Minified for size, with names kept: stack traces and logged class names stay readable.
    minify: true,
    keepNames: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Packages written as CommonJS call require(), which an ES module lacks.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  bundleController(join(repo, 'build', 'controller.mjs')).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
