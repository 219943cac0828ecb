/**
 * Lease and Event times are MicroTime: the API server parses exactly six fractional digits, while
 * the client serializes any Date with toISOString's three. This Date writes six, in JSON too.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}
