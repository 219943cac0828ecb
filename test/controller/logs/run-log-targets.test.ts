import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { archivedContainer, asLineTime, runLogTargets } from '../../../controller/logs/run-log-targets.js';

const pod = (name: string, created: string, init: string[], containers: string[]): V1Pod => ({
  metadata: { name, creationTimestamp: new Date(created) },
  spec: { initContainers: init.map((n) => ({ name: n })), containers: containers.map((n) => ({ name: n })) },
});

describe("a run's log targets", () => {
  it('reads pod and container from an archived key, and nothing else', () => {
    expect(archivedContainer('train-abc/main/0000-000001.log')).toEqual({ pod: 'train-abc', container: 'main' });
    expect(archivedContainer('train-abc/main/notes.txt')).toBeUndefined();
  });

  it('writes API times as the kubelet stamps lines, so the two sort together', () => {
    expect(asLineTime('2026-12-07T10:00:00Z')).toBe('2026-12-07T10:00:00.000000000Z');
    expect(asLineTime('2026-12-07T10:00:00Z') < '2026-12-07T10:00:00.500000000Z').toBe(true);
  });

  it('orders pods by when they started, a gone one by its first line, and containers as they run in the pod', () => {
    // A retried run: its first pod is gone (archive only), its second runs now.
    const archived = [
      { pod: 'train-2', container: 'plinth-network-gate' },
      { pod: 'train-1', container: 'main' },
      { pod: 'train-1', container: 'plinth-network-gate' },
    ];
    const firsts: Record<string, string> = {
      'train-1/plinth-network-gate': '2026-12-07T10:00:01.000000000Z',
      'train-1/main': '2026-12-07T10:00:02.000000000Z',
      'train-2/plinth-network-gate': '2026-12-07T10:05:01.000000000Z',
    };
    const pods = [pod('train-2', '2026-12-07T10:05:00Z', ['plinth-network-gate'], ['main'])];
    const targets = runLogTargets(archived, pods, (p, c) => firsts[`${p}/${c}`], {});
    expect(targets.map((t) => `${t.pod}/${t.container}`)).toEqual([
      'train-1/plinth-network-gate',
      'train-1/main',
      'train-2/plinth-network-gate',
      // Nothing archived yet: after its init container, as it starts.
      'train-2/main',
    ]);
    expect(runLogTargets(archived, pods, () => undefined, { container: 'main' }).map((t) => t.pod)).toEqual([
      'train-1',
      'train-2',
    ]);
    expect(runLogTargets(archived, pods, () => undefined, { pod: 'train-3' })).toEqual([]);
  });
});
