import { HttpMethod, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { apiFailure } from './api-failure.js';
import { requestApi } from './kube-config.js';

/**
 * The controller's reads of one object, past its caches: on the same transport as its writes
 * (api-writer.ts), as plain JSON whatever the resource. For what a cache transform dropped and
 * a reconcile needs whole.
 */
export class ApiReader {
  constructor(private readonly kc: KubeConfig) {}

  /** The object at a REST path, or undefined if there is none. */
  async get<T extends KubernetesObject>(path: string): Promise<T | undefined> {
    const response = await requestApi(this.kc, HttpMethod.GET, path, { headers: { accept: 'application/json' } });
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    if (response.statusCode >= 300) throw await apiFailure(response, HttpMethod.GET, path);
    return (await response.body.json()) as T;
  }
}
