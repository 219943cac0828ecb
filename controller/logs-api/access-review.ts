import { HttpMethod, type KubeConfig, type V1SubjectAccessReview } from '@kubernetes/client-node';
import { LOGS_API } from '../api/logs.js';
import { callApi } from '../runtime/api-call.js';
import type { Caller } from './request-identity.js';

/**
 * Whether the caller may read a run's logs, as RBAC says: `get` on `runlogs` (or `runlogs/log`)
 * in the run's namespace. The API server authorized the request already before it forwarded it; the read API
 * asks again, as Kubernetes' own aggregated servers do, so that a request that reached it any
 * other way reads nothing its caller may not. Undefined when allowed; the reason otherwise.
 */
export async function refusalToRead(
  kc: KubeConfig,
  caller: Caller,
  namespace: string,
  run: string,
  subresource: string | undefined,
): Promise<string | undefined> {
  const review: V1SubjectAccessReview = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: caller.user,
      uid: caller.uid,
      groups: [...caller.groups],
      extra: caller.extra,
      resourceAttributes: {
        namespace,
        verb: 'get',
        group: LOGS_API.group,
        version: LOGS_API.version,
        resource: LOGS_API.resource,
        subresource,
        name: run,
      },
    },
  };
  const answer = await callApi<V1SubjectAccessReview>(
    kc,
    HttpMethod.POST,
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    review,
  );
  if (answer.status?.allowed) return undefined;
  return answer.status?.reason || 'no role grants it';
}
