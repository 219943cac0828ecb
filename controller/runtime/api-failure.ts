import { ApiException, type HttpMethod } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';

/**
 * A failed reply of the API server as client-node's ApiException, with the server's Status as its
 * body and the Status message in its own, so that callers test `code` as for client-node's clients.
 */
export async function apiFailure(
  response: Dispatcher.ResponseData,
  method: HttpMethod,
  path: string,
): Promise<ApiException<unknown>> {
  const text = await response.body.text();
  let status: { message?: string } | string = text;
  try {
    status = JSON.parse(text) as { message?: string };
  } catch {
    // not a Status: keep the text
  }
  const message = typeof status === 'string' ? status : (status.message ?? text);
  const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, String(v)]));
  return new ApiException(
    response.statusCode,
    `HTTP ${response.statusCode} from ${method} ${path}: ${message}`,
    status,
    headers,
  );
}
