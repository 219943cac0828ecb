import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ListItemReader } from '../../../controller/runtime/list-items.js';

/** Items whose strings hold what would mislead a reader that did not follow JSON strings. */
const items: KubernetesObject[] = [
  {
    metadata: { name: 'a', annotations: { note: 'a "quoted" } ] { [ string, "items": [ and a backslash \\' } },
  },
  {
    metadata: { name: 'b' },
    spec: { args: ['GPU-Knoten für Läufe 🚀', '\\"', '\\\\'], nested: [[{}], { x: [] }] },
  } as KubernetesObject,
  { metadata: { name: 'c' }, items: [{ metadata: { name: 'not-an-item' } }] } as KubernetesObject,
];

/** Reads `text` cut into pieces at the given offsets. */
function read(text: string, cuts: number[], each?: (item: KubernetesObject) => void) {
  const reader = new ListItemReader<KubernetesObject>(each);
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    reader.write(text.slice(from, cut));
    from = cut;
  }
  return reader.end();
}

describe('ListItemReader', () => {
  it('reads every item whole, wherever the text is cut', () => {
    const list = { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '42', continue: '' } };
    const text = JSON.stringify(list, null, 1);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(read(text, [cut]), `cut at ${cut}`).toEqual(list);
    }
    // A chunk of one character at a time.
    expect(
      read(
        text,
        Array.from(text, (_, i) => i),
      ),
    ).toEqual(list);
  });

  it('keeps the fields of the list wherever they are, before or after the items', () => {
    const text = `{"metadata":{"resourceVersion":"7"},"items" : [ ${JSON.stringify(items[0])} ],"kind":"ConfigMapList"}`;
    expect(read(text, [])).toEqual({ metadata: { resourceVersion: '7' }, items: [items[0]], kind: 'ConfigMapList' });
  });

  it('reads a list with no items, or with null for them', () => {
    expect(read('{"items":[],"metadata":{"resourceVersion":"1"}}', [9])).toEqual({
      items: [],
      metadata: { resourceVersion: '1' },
    });
    expect(read('{"items":null,"metadata":{"resourceVersion":"1"}}', []).items).toEqual([]);
  });

  it('hands each item over before it reads the next, so that a trim runs before the next parse', () => {
    const text = JSON.stringify({ items, metadata: {} });
    const seen: string[] = [];
    const list = read(text, [], (item) => {
      seen.push(item.metadata?.name ?? '');
      // What the callback leaves is what the list holds.
      delete item.metadata?.annotations;
    });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(list.items[0]).toEqual({ metadata: { name: 'a' } });
  });

  it('refuses a list whose text ends before its JSON does', () => {
    const text = JSON.stringify({ items, metadata: {} });
    expect(() => read(text.slice(0, text.length - 3), [])).toThrow(/ended before its JSON did/);
  });
});
