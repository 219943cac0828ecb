/** The machine's architecture as OCI names it: images are built for the machine that builds them. */
export function ociArchitecture(): string {
  const names: Partial<Record<NodeJS.Architecture, string>> = {
    x64: 'amd64',
    arm64: 'arm64',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  const name = names[process.arch];
  if (!name) throw new Error(`images are not built on ${process.arch}; allowed: ${Object.keys(names).join(', ')}`);
  return name;
}
