import { ensurePlatformToolchain, ensurePulumiToolchain, ensureToolchain } from '../../local-cluster/toolchain.js';

/**
 * Builds whatever the deploy tests need and the cache lacks (the control plane and the Pulumi
 * parts, and the servers the platform runs, such as its own object store, from Go modules) before any test starts: on a fresh machine that takes longer than a
 * test hook may, and its progress goes to the terminal.
 */
export default function setup(): void {
  ensureToolchain();
  ensurePulumiToolchain();
  ensurePlatformToolchain();
}
