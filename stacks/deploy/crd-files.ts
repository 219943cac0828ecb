import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from './components/kubernetes-objects.js';

/** The upstream operators' CRDs the chart needs, vendored unchanged (see its README). */
export const VENDORED_CRDS = fileURLToPath(new URL('./operator-crds/', import.meta.url));

export interface Crd extends KubernetesObject {
  readonly spec: { readonly group: string };
}

/** Every CRD in a directory of manifests: the vendored ones unless another directory is given. */
export function crdsIn(dir: string = VENDORED_CRDS): Crd[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Crd))
    .filter((o) => o?.kind === 'CustomResourceDefinition');
}
