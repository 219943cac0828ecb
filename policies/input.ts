import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
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
/** A line that starts a new YAML document (`---`) or ends one (`...`), at column 0. */
const DOCUMENT_MARKER = /^(---|\.\.\.)(\s|$)/;

/** The documents of a YAML stream, each with the line it starts on. */
function splitDocuments(text: string): { text: string; line: number }[] {
  const docs: { text: string; line: number }[] = [];
  let start = 0;
  let current: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (DOCUMENT_MARKER.test(line)) {
      docs.push({ text: current.join('\n'), line: start + 1 });
      // Content may follow `--- ` on the same line.
      current = line.startsWith('---') ? [line.slice(3)] : [];
      start = i;
    } else {
      current.push(line);
    }
  });
  docs.push({ text: current.join('\n'), line: start + 1 });
  return docs;
}

/**
 * Parses multi-document YAML or JSON (a `List` is unpacked) into resources that know their line.
 * Documents are split at their markers and parsed one by one with js-yaml, which is several
 * times faster than a full-fidelity YAML parser over large sets of manifests.
 */
export function parseManifests(text: string, file: string): PolicyResource[] {
  const resources: PolicyResource[] = [];
  for (const doc of splitDocuments(text)) {
    const firstContent = doc.text.split('\n').findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (firstContent < 0) continue; // an empty document, e.g. after a trailing ---
    let value: unknown;
    try {
      value = load(doc.text);
    } catch (error) {
      const mark = (error as { mark?: { line?: number } }).mark;
      const reason = (error as { reason?: string }).reason ?? (error as Error).message.split('\n')[0];
      throw new InputError(file, doc.line + (mark?.line ?? 0), reason ?? 'invalid YAML');
    }
    if (value === null || value === undefined) continue;
    const firstContentLine = doc.line + firstContent;
    const objects = isList(value) ? value.items : [value];
    for (const object of objects) {
      if (typeof object !== 'object' || object === null || !('kind' in object)) {
        throw new InputError(file, firstContentLine, 'a document is not a Kubernetes object (it has no kind)');
      }
      resources.push(fromManifest(object as Record<string, unknown>, { file, line: firstContentLine }));
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
