import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { fromManifest, type PolicyResource } from './resource.js';

/** Input that cannot be read as Kubernetes manifests: names the file and line. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'InputError';
  }
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** Parses multi-document YAML or JSON (a `List` is unpacked) into resources that know their line. */
export function parseManifests(text: string, file: string): PolicyResource[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  if (!Array.isArray(docs)) throw new InputError(file, 1, 'not a YAML stream');
  const resources: PolicyResource[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw new InputError(file, error.linePos?.[0].line ?? 1, error.message.split('\n')[0] ?? 'invalid YAML');
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const line = lines.linePos(doc.range[0]).line;
    const objects = isList(value) ? value.items : [value];
    for (const object of objects) {
      if (typeof object !== 'object' || object === null || !('kind' in object)) {
        throw new InputError(file, line, 'a document is not a Kubernetes object (it has no kind)');
      }
      resources.push(fromManifest(object as Record<string, unknown>, { file, line }));
    }
  }
  return resources;
}

function isList(value: unknown): value is { items: unknown[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { items?: unknown }).items) &&
    String((value as { kind?: string }).kind).endsWith('List')
  );
}

async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => {
    throw new InputError(path, 0, 'no such file or directory');
  });
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && MANIFEST.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Reads files and directories (recursively, *.yaml, *.yml, *.json); "-" is standard input. */
export async function readInputs(paths: readonly string[], stdin: () => Promise<string>): Promise<PolicyResource[]> {
  const resources: PolicyResource[] = [];
  for (const path of paths) {
    if (path === '-') {
      resources.push(...parseManifests(await stdin(), '<stdin>'));
      continue;
    }
    for (const file of await filesUnder(path)) resources.push(...parseManifests(await readFile(file, 'utf8'), file));
  }
  return resources;
}
