/**
 * `npm run images`: builds the images (those named, or all) without Docker or a registry, and
 * prints each one's reference. `npm run -s images -- list` prints `name<TAB>reference` without
 * building; `--digests` pins each to its manifest digest and `--layouts` adds the folder of its OCI
 * layout (what a push copies from), for built images only. `lock <name>` rewrites an image's pip
 * lock from its requirements.
 */
import { parseArgs } from 'node:util';
import { buildImages, builtImage } from './builder/build-image.js';
import { lockImage } from './builder/lock.js';
import { checkRegistry, IMAGE_NAMES, imageDefinition, imageReference, LOCAL_REGISTRY } from './reference.js';

const USAGE = [
  'usage: npm run images [-- build [name...]]',
  '       npm run -s images -- list [--digests] [--layouts] [--registry <host/path>]',
  '       npm run images -- lock <name>',
  `names: ${IMAGE_NAMES.join(', ')}`,
].join('\n');

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      digests: { type: 'boolean', default: false },
      layouts: { type: 'boolean', default: false },
      registry: { type: 'string', default: LOCAL_REGISTRY },
    },
  });
  const [command = 'build', ...names] = positionals;
  checkRegistry(values.registry);
  names.forEach(imageDefinition);
  switch (command) {
    case 'build': {
      for (const image of await buildImages(names.length > 0 ? names : IMAGE_NAMES)) console.log(image.reference);
      return 0;
    }
    case 'list': {
      const listed = names.length > 0 ? names : IMAGE_NAMES;
      const reference = (name: string) => imageReference(name, values.registry);
      if (!values.digests && !values.layouts) {
        for (const name of listed) console.log(`${name}\t${reference(name)}`);
        return 0;
      }
      const built = listed.map((name) => ({ name, image: builtImage(name) }));
      const unbuilt = built.filter((b) => !b.image).map((b) => b.name);
      if (unbuilt.length > 0) {
        console.error(
          `not built for their current inputs: ${unbuilt.join(', ')}; run: npm run images -- build ${unbuilt.join(' ')}`,
        );
        return 1;
      }
      for (const { name, image } of built) {
        const pinned = values.digests ? `${reference(name)}@${image?.manifestDigest}` : reference(name);
        console.log([name, pinned, ...(values.layouts ? [image?.layout] : [])].join('\t'));
      }
      return 0;
    }
    case 'lock': {
      const [name, ...more] = names;
      if (!name || more.length > 0) throw new Error(`lock takes one image name\n${USAGE}`);
      await lockImage(name);
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
