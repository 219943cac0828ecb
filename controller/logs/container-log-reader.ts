import { setImmediate as yieldToIo } from 'node:timers/promises';
import { HttpMethod, type KubeConfig } from '@kubernetes/client-node';
import { apiFailure } from '../runtime/api-failure.js';
import { requestApi } from '../runtime/kube-config.js';

/** Which log of a container to read, and how. */
export interface LogRead {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** The instance before the latest, which the kubelet keeps until the container restarts again. */
  readonly previous: boolean;
  /** Stream until the container exits, rather than read what there is and end. */
  readonly follow: boolean;
  /** RFC 3339, whole seconds: the kubelet's `sinceTime`. */
  readonly sinceTime: string | undefined;
}

/**
 * Reads a container's log through the API server's `pods/log`, as `kubectl logs` does, with each
 * line stamped by the kubelet (`timestamps=true`), and hands over whole lines as they come. Resolves
 * once the stream ends: at the container's exit when following, or when the connection drops.
 */
export async function readContainerLog(
  kc: KubeConfig,
  read: LogRead,
  onLines: (lines: string[]) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const query = new URLSearchParams({ container: read.container, timestamps: 'true' });
  if (read.follow) query.set('follow', 'true');
  if (read.previous) query.set('previous', 'true');
  if (read.sinceTime) query.set('sinceTime', read.sinceTime);
  const path = `/api/v1/namespaces/${read.namespace}/pods/${read.pod}/log?${query}`;
  const response = await requestApi(kc, HttpMethod.GET, path, { signal, headers: { accept: '*/*' } });
  if (response.statusCode >= 300) throw await apiFailure(response, HttpMethod.GET, path);
  let rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    rest += decoder.decode(chunk as Uint8Array, { stream: true });
    const end = rest.lastIndexOf('\n');
    if (end < 0) continue;
    const lines = rest.slice(0, end).split('\n');
    rest = rest.slice(end + 1);
    await onLines(lines);
    // A stream with data buffered would go on through promise callbacks alone, which run before
    // any I/O: with hundreds of streams the controller then answered nothing else, its probes
    // included, for a minute at a time. After each chunk, the other streams and requests get a turn.
    await yieldToIo();
  }
  rest += decoder.decode();
  // A last line the container left without a newline is still a line.
  if (rest.length > 0) await onLines([rest]);
}
