import type { LogStore } from '../../controller/logs/log-store.js';

/**
 * A log store in memory, for the bookkeeping of archiving and reading logs (which chunk, which
 * line); the cluster suites run the same code against the platform's real store.
 */
export function memoryLogStore(): LogStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    put: async (key, body) => void objects.set(key, body),
    list: async (prefix) => [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(),
    get: async (key) => objects.get(key) ?? '',
  };
}
