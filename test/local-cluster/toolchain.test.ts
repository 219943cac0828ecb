import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BINARIES,
  NODE_BINARIES,
  PLATFORM_BINARIES,
  PULUMI_BINARIES,
  toolchainVersions,
} from '../../local-cluster/toolchain.js';

const buildScript = fileURLToPath(new URL('../../local-cluster/toolchain/build.sh', import.meta.url));
const specs = [...BINARIES, ...PULUMI_BINARIES, ...NODE_BINARIES, ...PLATFORM_BINARIES];

function runBuildScript(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('bash', [buildScript, ...args], { encoding: 'utf8' });
}

describe('the toolchain the harness ensures', () => {
  it('names for each binary a component that build.sh builds, so a missing one can be built', () => {
    const components = runBuildScript('--list').stdout.trim().split('\n');
    for (const spec of specs) expect(components, spec.name).toContain(spec.component);
  });

  it('pins a version in versions.env for each binary, which names its cache folder', () => {
    const versions = toolchainVersions();
    for (const spec of specs) expect(versions[spec.versionKey], spec.versionKey).toMatch(/^\S+$/);
  });

  it('refuses an unknown component before building anything, naming the allowed ones', () => {
    const result = runBuildScript('kubernetes', 'no-such-component');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown component 'no-such-component' (allowed: etcd, kwok,");
    expect(result.stderr).not.toContain('cached in');
  });
});
