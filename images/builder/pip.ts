/**
 * Python packages from PyPI, installed by the image's own python3 and pip inside its root: wheels
 * only (`--only-binary=:all:`), every distribution pinned by the image's lock and installed as
 * locked, without resolving, then checked for consistency with `pip check`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_CACHE, BUILD_FILES, runInRoot } from './chroot.js';
import { imagesCacheDir } from './cache.js';

type PipStep = { readonly requirements: readonly string[]; readonly lock: string };

/** PEP 503: names that differ in case or in runs of `-`, `_`, `.` name one project. */
function projectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function pins(lines: readonly string[], where: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of lines) {
    const [, name, version] = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$/.exec(line) ?? [];
    if (!name || !version) throw new Error(`${where}: "${line}" is not pinned as <name>==<version>`);
    found.set(projectName(name), version);
  }
  return found;
}

/** The lock's lines, without comments and blank lines. */
export function lockLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Why the lock does not hold what the step asks for, or undefined when it does. */
export function staleLock(step: PipStep, lock: readonly string[], image: string): string | undefined {
  const wanted = pins(step.requirements, `image "${image}" pip requirements`);
  const locked = pins(lock, step.lock);
  const differing = [...wanted].filter(([name, version]) => locked.get(name) !== version);
  if (differing.length === 0) return undefined;
  const listed = differing.map(([name, version]) => `${name}==${version} (locked: ${locked.get(name) ?? 'none'})`);
  return `${step.lock} does not lock what image "${image}" asks for: ${listed.join(', ')}; run: npm run images -- lock ${image}`;
}

/** The host's CA bundle, which pip in the root trusts (a proxy's, for one) without it entering the image. */
function hostCertificates(): string | undefined {
  const candidates = [process.env['PIP_CERT'], process.env['SSL_CERT_FILE'], '/etc/ssl/certs/ca-certificates.crt'];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

/** Where to send requests, if the host says: its index and proxies. */
const PASSED_THROUGH = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_TRUSTED_HOST'].concat(
  ['http_proxy', 'https_proxy', 'no_proxy'].flatMap((name) => [name, name.toUpperCase()]),
);

function pipEnvironment(hasCertificates: boolean): Record<string, string> {
  const passed = Object.fromEntries(
    PASSED_THROUGH.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
  ) as Record<string, string>;
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    // Byte code checked by hash, not by the file dates the layer sets to 0.
    SOURCE_DATE_EPOCH: '0',
    PIP_CACHE_DIR: BUILD_CACHE,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PIP_PROGRESS_BAR: 'off',
    PIP_ROOT_USER_ACTION: 'ignore',
    // Debian marks its python3 as managed by apt; packages go to /usr/local, beside Debian's.
    PIP_BREAK_SYSTEM_PACKAGES: '1',
    ...(hasCertificates ? { PIP_CERT: `${BUILD_FILES}/ca-certificates.crt` } : {}),
    ...passed,
  };
}

/** Host files the command reads: the lock or the requirements, and the CA bundle. */
function buildFiles(folder: string, requirements: readonly string[]): boolean {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'requirements.txt'), `${requirements.join('\n')}\n`);
  const certificates = hostCertificates();
  if (certificates) writeFileSync(join(folder, 'ca-certificates.crt'), readFileSync(certificates));
  return !!certificates;
}

function pipCache(): string {
  const folder = join(imagesCacheDir(), 'pip');
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** Installs the lock into `root`; `scratch` is a host folder for the command's files. */
export async function pipInstall(root: string, lockPath: string, scratch: string): Promise<void> {
  const hasCertificates = buildFiles(scratch, lockLines(lockPath));
  const options = { env: pipEnvironment(hasCertificates), buildFiles: scratch, cache: pipCache() };
  await runInRoot(
    root,
    [
      'python3',
      '-m',
      'pip',
      'install',
      '--no-deps',
      '--only-binary=:all:',
      '--requirement',
      `${BUILD_FILES}/requirements.txt`,
    ],
    options,
  );
  await runInRoot(root, ['python3', '-m', 'pip', 'check'], options);
}

interface PipReport {
  readonly install: readonly { readonly metadata: { readonly name: string; readonly version: string } }[];
}

/**
 * What the requirements resolve to for the python3 of `root`: every distribution they need,
 * pinned. Resolved as if nothing were installed, so that the lock holds all of it whatever
 * Debian's packages bring.
 */
export async function pipResolve(root: string, requirements: readonly string[], scratch: string): Promise<string[]> {
  const hasCertificates = buildFiles(scratch, requirements);
  const report = await runInRoot(
    root,
    [
      'python3',
      '-m',
      'pip',
      'install',
      '--dry-run',
      '--quiet',
      '--ignore-installed',
      '--only-binary=:all:',
      '--report=-',
      '--requirement',
      `${BUILD_FILES}/requirements.txt`,
    ],
    { env: pipEnvironment(hasCertificates), buildFiles: scratch, cache: pipCache(), capture: true },
  );
  const parsed = JSON.parse(report) as PipReport;
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return parsed.install
    .map(({ metadata }) => ({ key: projectName(metadata.name), pin: `${metadata.name}==${metadata.version}` }))
    .sort((a, b) => byName(a.key, b.key))
    .map(({ pin }) => pin);
}
