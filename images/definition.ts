/**
 * An image as data: what its root filesystem is made of and how it runs. Every field is an input
 * of the image's content hash (`reference.ts`), so a definition holds plain values only.
 */

import type { PlatformBinaryName } from '../local-cluster/toolchain.js';

/** Paths in the repository are relative to its root, with `/`. */
type RepositoryPath = string;

export type ImageBase =
  /** Debian's minimal root (mmdebstrap's minbase variant) with these packages and what they need. */
  | { readonly kind: 'debian'; readonly packages: readonly string[] }
  /** An empty root: the steps put in everything the image holds. */
  | { readonly kind: 'scratch' };

export type ImageStep =
  /**
   * Installs wheels from PyPI with the image's own python3 and pip, from `lock`: every
   * distribution pinned with `==`, installed without resolving, then checked with `pip check`.
   * `requirements` are what the image asks for, each pinned; `npm run images -- lock <name>`
   * resolves them into the lock.
   */
  | { readonly kind: 'pip'; readonly requirements: readonly string[]; readonly lock: RepositoryPath }
  /** Compiles one C file with `gcc -static` into the executable `to`. */
  | { readonly kind: 'static-c'; readonly source: RepositoryPath; readonly to: string }
  /** The Node.js binary of the `node` package that `npm ci` installs (its version is in package-lock.json). */
  | { readonly kind: 'node'; readonly to: string }
  /** The controller bundled by `controller/bundle.ts` into one file. */
  | { readonly kind: 'controller-bundle'; readonly to: string }
  /**
   * A static binary the toolchain builds from Go modules at its pinned version
   * (local-cluster/toolchain/versions.env), built first if it is not in the cache.
   */
  | { readonly kind: 'toolchain-binary'; readonly binary: PlatformBinaryName; readonly to: string };

export interface ImageDefinition {
  /** The image's name in its reference, `<registry>/<name>:<hash>`. */
  readonly name: string;
  readonly base: ImageBase;
  readonly steps: readonly ImageStep[];
  /**
   * Numeric, so that a kubelet can check `runAsNonRoot` against it. Debian images get an account
   * for it (`account`), since git and Python's getpass look the running uid up in /etc/passwd.
   */
  readonly user: { readonly uid: number; readonly gid: number; readonly account?: string };
  readonly env: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workdir: string;
  /**
   * Repository files and folders the steps read beyond those they name (a pip step's lock, a C
   * source), such as the sources of a bundle: part of the hash.
   */
  readonly inputs: readonly RepositoryPath[];
}
