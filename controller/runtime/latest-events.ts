import type { CoreV1Event } from '@kubernetes/client-node';
import { objectKey } from './object-key.js';

/**
 * The latest message of one kind of event, by the object it is about (`namespace/name`). Events are
 * aggregated and sent again, and a restarted watch replays old ones: only a newer one replaces.
 */
export class LatestEvents {
  private readonly byObject = new Map<
    string,
    { readonly at: number; readonly reason: string; readonly message: string }
  >();

  /** `fallback` stands for an event without a message. */
  constructor(private readonly fallback: string) {}

  /** Records the event; returns the key of its object if the event is now that object's latest. */
  note(event: CoreV1Event): string | undefined {
    const key = objectKey(event.involvedObject.namespace, event.involvedObject.name);
    const at = new Date(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? 0).getTime();
    const known = this.byObject.get(key);
    if (known && known.at > at) return undefined;
    this.byObject.set(key, { at, reason: event.reason ?? '', message: event.message ?? this.fallback });
    return key;
  }

  get(key: string): string | undefined {
    return this.byObject.get(key)?.message;
  }

  /** The latest event's reason and message, where one kind of watch sees several reasons. */
  latest(key: string): { readonly reason: string; readonly message: string } | undefined {
    const known = this.byObject.get(key);
    return known && { reason: known.reason, message: known.message };
  }

  forget(key: string): void {
    this.byObject.delete(key);
  }
}
