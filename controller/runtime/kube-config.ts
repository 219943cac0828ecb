import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { request, type Dispatcher } from 'undici';

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;
type ApplyHttpsOptions = (opts: { headers?: Record<string, string> } & Record<string, unknown>) => void;

/**
 * Makes every API client made from `kc` share one connection pool per API server.
 *
 * @kubernetes/client-node 2.0 builds a new undici Agent for each request, so every API call pays
 * a fresh TLS handshake and certificate parsing, on both sides; under load that was most of the
 * controller's CPU and a third of the API server's. It also reads the CA, certificate and key
 * files again for each request, only for the pooled Agent to ignore them. So the TLS settings are
 * read once per API server and user, and one Agent per API server serves the life of the process.
 * Tokens travel in headers, and are still worked out per request, by client-node's authenticators.
 */
export function withPooledConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: CreateDispatcher; applyHTTPSOptions: ApplyHttpsOptions };
  const create = target.createDispatcher.bind(kc);
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = (cluster as { server?: string } | null)?.server ?? '';
    if (!dispatchers.has(key)) dispatchers.set(key, create(cluster, agentOptions));
    return dispatchers.get(key);
  };
  const readTls = target.applyHTTPSOptions.bind(kc);
  const tlsSettings = new Map<string, Parameters<ApplyHttpsOptions>[0]>();
  target.applyHTTPSOptions = (opts) => {
    const key = `${kc.getCurrentCluster()?.server ?? ''} ${kc.getCurrentUser()?.name ?? ''}`;
    if (!tlsSettings.has(key)) {
      const settings = {};
      readTls(settings);
      tlsSettings.set(key, settings);
    }
    const { headers, ...tls } = tlsSettings.get(key) ?? {};
    Object.assign(opts, tls);
    // Authenticators add to the headers: each request gets its own copy.
    if (headers) opts.headers = { ...opts.headers, ...headers };
  };
  return kc;
}

/** KUBECONFIG (or in-cluster) credentials, with pooled connections. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return withPooledConnections(kc);
}

/**
 * A request to the current cluster's API server on undici's own API, with the KubeConfig's
 * credentials and pooled connection: the controller's hot paths (watches, and the writes each run
 * needs) use it instead of client-node's fetch-based transport.
 */
export async function requestApi(
  kc: KubeConfig,
  method: HttpMethod,
  pathAndQuery: string,
  options: { headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {},
): Promise<Dispatcher.ResponseData> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('No currently active cluster');
  const context = new RequestContext(`${server}${pathAndQuery}`, method);
  await kc.applySecurityAuthentication(context);
  return request(context.getUrl(), {
    method,
    headers: { ...context.getHeaders(), ...options.headers },
    body: options.body,
    signal: options.signal,
    dispatcher: context.getDispatcher() as Dispatcher | undefined,
  });
}
