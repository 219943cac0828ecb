import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds the real control-plane binaries: an explicit PLINTH_<NAME> path first, then a binary on
 * PATH that reports the pinned version, then the build cache (~/.cache/plinth/<component>-<version>/bin). Missing ones are built from Go modules by toolchain/build.sh, which prints its progress.
 */
const here = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(here, 'toolchain', 'build.sh');

export function toolchainVersions(): Record<string, string> {
  const text = readFileSync(join(here, 'toolchain', 'versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

export function cacheDir(): string {
  return process.env['PLINTH_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'plinth');
}

interface BinarySpec {
  readonly name: string;
  /** Build component (see build.sh) and its version key in versions.env. */
  readonly component: string;
  readonly versionKey: string;
  /** A binary on PATH is taken only if it reports the pinned version; false where it cannot. */
  readonly fromPath: boolean;
  /** What makes it print its version, where that is not `--version`. */
  readonly versionArgs?: readonly string[];
}

export const BINARIES = [
  { name: 'etcd', component: 'etcd', versionKey: 'ETCD_VERSION', fromPath: true },
  { name: 'kube-apiserver', component: 'kubernetes', versionKey: 'KUBERNETES_VERSION', fromPath: true },
  { name: 'kube-controller-manager', component: 'kubernetes', versionKey: 'KUBERNETES_VERSION', fromPath: true },
  { name: 'kube-scheduler', component: 'kubernetes', versionKey: 'KUBERNETES_VERSION', fromPath: true },
  {
    name: 'kubectl',
    component: 'kubernetes',
    versionKey: 'KUBERNETES_VERSION',
    fromPath: true,
    versionArgs: ['version', '--client'],
  },
  { name: 'kwok', component: 'kwok', versionKey: 'KWOK_VERSION', fromPath: true },
] as const satisfies readonly BinarySpec[];

/** The Pulumi engine, its Node.js language host and the Kubernetes provider, for the deploy tests. */
export const PULUMI_BINARIES = [
  { name: 'pulumi', component: 'pulumi', versionKey: 'PULUMI_VERSION', fromPath: true, versionArgs: ['version'] },
  // Shipped beside the CLI: starts policy packs (`pulumi preview --policy-pack`).
  { name: 'pulumi-analyzer-policy', component: 'pulumi', versionKey: 'PULUMI_VERSION', fromPath: false },
  {
    name: 'pulumi-language-nodejs',
    component: 'pulumi-language-nodejs',
    versionKey: 'PULUMI_NODEJS_HOST_VERSION',
    fromPath: false,
  },
  {
    name: 'pulumi-resource-kubernetes',
    component: 'pulumi-kubernetes',
    versionKey: 'PULUMI_KUBERNETES_VERSION',
    fromPath: false,
  },
] as const satisfies readonly BinarySpec[];

/** What each real node runs beside its containerd: the kubelet, Service routing, NetworkPolicy. */
export const NODE_BINARIES = [
  { name: 'kubelet', component: 'kubernetes-node', versionKey: 'KUBERNETES_VERSION', fromPath: true },
  { name: 'kube-proxy', component: 'kubernetes-node', versionKey: 'KUBERNETES_VERSION', fromPath: true },
  // Run with `--run-firewall=true --run-router=false --run-service-proxy=false`.
  { name: 'kube-router', component: 'kube-router', versionKey: 'KUBE_ROUTER_VERSION', fromPath: true },
] as const satisfies readonly BinarySpec[];

/** What the real local platform's services run: cluster DNS, the S3 store (its own admin client), the Postgres operator. */
export const PLATFORM_BINARIES = [
  { name: 'coredns', component: 'coredns', versionKey: 'COREDNS_VERSION', fromPath: true, versionArgs: ['-version'] },
  // Served as `versitygw --iam-dir <users> posix --sidecar <metadata> <data>`: without a sidecar
  // folder the bucket policy lives in one extended attribute, which ext4 caps near 4 KB (about five
  // teams' statements).
  { name: 'versitygw', component: 'versitygw', versionKey: 'VERSITYGW_VERSION', fromPath: true },
  // CloudNativePG's manager, named for its project here; its images keep it at /manager.
  { name: 'cnpg-manager', component: 'cloudnative-pg', versionKey: 'CLOUDNATIVE_PG_VERSION', fromPath: false },
] as const satisfies readonly BinarySpec[];

export type BinaryName = (typeof BINARIES)[number]['name'];
export type Binaries = Record<BinaryName, string>;
export type PulumiBinaryName = (typeof PULUMI_BINARIES)[number]['name'];
export type NodeBinaryName = (typeof NODE_BINARIES)[number]['name'];
export type PlatformBinaryName = (typeof PLATFORM_BINARIES)[number]['name'];

/** PLINTH_KUBE_APISERVER, PLINTH_ETCD, PLINTH_KWOK, ... */
export function overrideVariable(name: string): string {
  return `PLINTH_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** True when the binary reports the pinned version. */
function reportsVersion(path: string, spec: BinarySpec, version: string): boolean {
  const out = spawnSync(path, spec.versionArgs ?? ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return new RegExp(`\\bv?${version.replace(/^v/, '').replace(/\./g, '\\.')}\\b`).test(`${out.stdout}${out.stderr}`);
}

/** A binary on PATH is used only when it is the pinned version: a stray older kubectl is skipped. */
function onPath(spec: BinarySpec, version: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, spec.name);
    if (dir && existsSync(candidate) && reportsVersion(candidate, spec, version)) return candidate;
  }
  return undefined;
}

function cachedPath(spec: BinarySpec, versions: Record<string, string>): string {
  return join(cacheDir(), `${spec.component}-${versions[spec.versionKey]}`, 'bin', spec.name);
}

/** Where each binary is, without building anything; undefined where none is found. */
function locate<S extends BinarySpec>(specs: readonly S[]): Partial<Record<S['name'], string>> {
  const versions = toolchainVersions();
  const found: Partial<Record<S['name'], string>> = {};
  for (const spec of specs) {
    const name = spec.name as S['name'];
    const override = process.env[overrideVariable(spec.name)];
    if (override) {
      if (!existsSync(override)) throw new Error(`${overrideVariable(spec.name)}=${override}: no such file`);
      found[name] = override;
      continue;
    }
    const cached = cachedPath(spec, versions);
    const version = versions[spec.versionKey] ?? '';
    found[name] = (spec.fromPath ? onPath(spec, version) : undefined) ?? (existsSync(cached) ? cached : undefined);
  }
  return found;
}

/** Locates every binary of the list, building the missing components first. */
function ensure<S extends BinarySpec>(specs: readonly S[]): Record<S['name'], string> {
  const found = locate(specs);
  const missing = [...new Set(specs.filter((b) => !found[b.name as S['name']]).map((b) => b.component))];
  if (missing.length > 0) {
    console.error(`[toolchain] building ${missing.join(', ')} from Go modules into ${cacheDir()}`);
    const result = spawnSync('bash', [BUILD_SCRIPT, ...missing], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`toolchain build failed (exit ${result.status}); see the output above`);
  }
  const after = locate(specs);
  for (const spec of specs) {
    if (!after[spec.name as S['name']]) {
      throw new Error(`${spec.name} was not found or built; set ${overrideVariable(spec.name)}`);
    }
  }
  return after as Record<S['name'], string>;
}

export const locateBinaries = (): Partial<Binaries> => locate(BINARIES);
export const ensureToolchain = (): Binaries => ensure(BINARIES);
export const ensurePulumiToolchain = (): Record<PulumiBinaryName, string> => ensure(PULUMI_BINARIES);
export const ensureNodeToolchain = (): Record<NodeBinaryName, string> => ensure(NODE_BINARIES);
export const ensurePlatformToolchain = (): Record<PlatformBinaryName, string> => ensure(PLATFORM_BINARIES);

/**
 * CloudNativePG's release configuration (its kustomization of every CRD, RBAC, the webhooks and the
 * operator Deployment), which the toolchain keeps beside the manager it builds.
 */
export function cloudNativePgReleaseConfig(): string {
  const dir = join(cacheDir(), `cloudnative-pg-${toolchainVersions()['CLOUDNATIVE_PG_VERSION']}`, 'config', 'default');
  if (!existsSync(dir)) ensure(PLATFORM_BINARIES.filter((b) => b.component === 'cloudnative-pg'));
  if (!existsSync(dir)) throw new Error(`CloudNativePG's release configuration is missing from ${dir}`);
  return dir;
}
