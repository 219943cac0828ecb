import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** The text before the list's items array, whatever whitespace the server puts around the colon. */
const ITEMS_KEY = /"items"\s*:\s*$/;
/** Depth of the list's own fields, of the items array's entries, and inside an entry. */
const LIST_DEPTH = 1;
const ITEMS_DEPTH = 2;

/**
 * Reads a Kubernetes list from its JSON text, chunk by chunk as it arrives, and parses each item
 * on its own, as soon as it is whole, handing it to `each` before the next one is read. A list
 * parsed whole holds every object at full size at once: a collection of thousands of large
 * objects, which an informer's transform would trim to a fraction, is more than a bounded heap
 * can hold at any moment, however little the informer keeps. Read this way, the most held at
 * once is one item's text and its parse, beside the items already kept.
 *
 * It follows JSON's strings and nesting only as far as finding where each item begins and ends;
 * JSON.parse reads everything. The list's other fields (kind, metadata with its resourceVersion
 * and continue token) are kept as text and parsed once the list ends.
 */
export class ListItemReader<T extends KubernetesObject> {
  private readonly items: T[] = [];
  /** The list's text without its items: `{"kind":"...","items":[],"metadata":{...}}`. */
  private outside = '';
  /** The text of the item being read, in the pieces its chunks brought. */
  private item: string[] | undefined;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private inItems = false;

  constructor(private readonly each: (item: T) => void = () => undefined) {}

  /** Reads the next piece of the list's text, wherever it was cut. */
  write(chunk: string): void {
    // Where the text of the chunk not yet kept starts: it goes to `outside`, to the item being
    // read, or nowhere (the commas and whitespace between items).
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.inItems && this.depth === ITEMS_DEPTH) {
          this.item = [];
          start = i;
        } else if (
          !this.inItems &&
          this.depth === LIST_DEPTH &&
          c === OPEN_BRACKET &&
          ITEMS_KEY.test(this.outside + chunk.slice(start, i))
        ) {
          this.outside += chunk.slice(start, i + 1);
          start = i + 1;
          this.inItems = true;
        }
        this.depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        if (this.inItems && this.depth === ITEMS_DEPTH && this.item) {
          this.item.push(chunk.slice(start, i + 1));
          this.take(this.item.join(''));
          this.item = undefined;
          start = i + 1;
        } else if (this.inItems && this.depth === LIST_DEPTH) {
          // The items array ends: its closing bracket, and what follows, belong to the list.
          this.inItems = false;
          start = i;
        }
      }
    }
    if (this.item) this.item.push(chunk.slice(start));
    else if (!this.inItems) this.outside += chunk.slice(start);
  }

  private take(text: string): void {
    const item = JSON.parse(text) as T;
    this.each(item);
    this.items.push(item);
  }

  /** The list, once its whole text has been written, with every item as `each` left it. */
  end(): KubernetesListObject<T> {
    if (this.depth !== 0 || this.inString || this.item) throw new Error('the list ended before its JSON did');
    const list = JSON.parse(this.outside) as KubernetesListObject<T>;
    list.items = this.items;
    return list;
  }
}
