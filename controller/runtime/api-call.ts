import type { HttpMethod, KubeConfig } from '@kubernetes/client-node';
import { apiFailure } from './api-failure.js';
import { requestApi } from './kube-config.js';

/**
 * One API call whose reply the caller reads: a create, a replace or a review (a
 * SubjectAccessReview's answer is its reply). On the controller's pooled transport; a failure is
 * client-node's ApiException with the API server's Status message, as for every other call.
 */
export async function callApi<T>(
  kc: KubeConfig,
  method: HttpMethod,
  path: string,
  body: unknown,
  contentType = 'application/json',
): Promise<T> {
  const response = await requestApi(kc, method, path, {
    headers: { 'content-type': contentType, accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.statusCode >= 300) throw await apiFailure(response, method, path);
  return (await response.body.json()) as T;
}
