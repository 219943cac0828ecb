import { ApiException, HttpMethod, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { apiFailure } from './api-failure.js';
import { requestApi } from './kube-config.js';

/** What an object must still be for a deletion to go ahead. */
export interface DeletePreconditions {
  readonly uid: string;
  readonly resourceVersion?: string;
}

/**
 * The controller's writes, server-side apply of a child, a merge patch of a custom resource's
 * status and a child's deletion, sent with undici's request API. client-node's generated clients send through fetch and
 * map every body through their type models. That cost about 0.4 ms more client CPU per request
 * in a test of 1,000 merge patches against the local API server. Authentication and the
 * connection pool are the KubeConfig's (`requestApi`), as for every other call. A failure is client-node's
 * ApiException, with the API server's Status message.
 */
export class ApiWriter {
  /**
   * `resources` names, by kind, the REST resource of every kind the caller applies or deletes: it
   * never writes any other.
   */
  constructor(
    private readonly kc: KubeConfig,
    private readonly fieldManager: string,
    private readonly resources: ReadonlyMap<string, string>,
  ) {}

  private pathOf(object: KubernetesObject): string {
    const { apiVersion = '', kind = '', metadata } = object;
    const resource = this.resources.get(kind);
    if (!resource) throw new Error(`this controller does not write objects of kind ${kind}`);
    const group = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return `${group}/namespaces/${metadata?.namespace}/${resource}/${metadata?.name}`;
  }

  /**
   * Server-side apply, taking ownership of the fields it sets. The body is a typed object, which
   * the server would otherwise decode a second time, strictly, to warn of duplicate or unknown
   * fields: JSON.stringify writes no duplicates, and an unknown field is dropped either way. In a
   * test of 500 Job applies, four times over, the second decode cost the API server about 1.5 of
   * its 13 ms per apply.
   */
  async apply(object: KubernetesObject): Promise<void> {
    await this.send(
      HttpMethod.PATCH,
      this.pathOf(object),
      `fieldManager=${encodeURIComponent(this.fieldManager)}&force=true&fieldValidation=Ignore`,
      'application/apply-patch+yaml',
      object,
    );
  }

  /** A JSON merge patch of a custom resource's status subresource. */
  async patchStatus(resourcePath: string, status: unknown, resourceVersion?: string): Promise<void> {
    await this.send(HttpMethod.PATCH, `${resourcePath}/status`, undefined, 'application/merge-patch+json', {
      // With a resourceVersion, the API server applies the patch only to the object as read (409 otherwise).
      ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
      status,
    });
  }

  /**
   * A JSON patch of an object's metadata or spec: for an edit that must hold only if the object
   * still is as read (a `test` operation first), such as taking one finalizer off.
   */
  async jsonPatch(object: KubernetesObject, operations: readonly object[]): Promise<void> {
    await this.send(HttpMethod.PATCH, this.pathOf(object), undefined, 'application/json-patch+json', operations);
  }

  /** A JSON merge patch of an object, such as setting one annotation. */
  async mergePatch(object: KubernetesObject, patch: object): Promise<void> {
    await this.send(HttpMethod.PATCH, this.pathOf(object), undefined, 'application/merge-patch+json', patch);
  }

  /**
   * Deletes an object, in the foreground: it stays, with a deletionTimestamp, until the garbage
   * collector has deleted what it owns (a Job's or a Deployment's pods). One already gone is no error:
   * resolves to whether this call deleted it. With `preconditions`, the API server deletes only the
   * object of that uid (and resourceVersion), and refuses with 409 Conflict if the name now stands
   * for another object or a newer version of it, which a decision taken on a cache may not know of.
   */
  async delete(object: KubernetesObject, preconditions?: DeletePreconditions): Promise<boolean> {
    try {
      await this.send(HttpMethod.DELETE, this.pathOf(object), undefined, 'application/json', {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: 'Foreground',
        ...(preconditions ? { preconditions } : {}),
      });
      return true;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return false;
      throw error;
    }
  }

  private async send(
    method: HttpMethod,
    path: string,
    query: string | undefined,
    contentType: string,
    body: unknown,
  ): Promise<void> {
    const response = await requestApi(this.kc, method, query ? `${path}?${query}` : path, {
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.statusCode < 300) {
      // The reply is the whole object; the informers deliver it anyway.
      await response.body.dump();
      return;
    }
    throw await apiFailure(response, method, path);
  }
}
