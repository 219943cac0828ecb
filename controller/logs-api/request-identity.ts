import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { ApiReader } from '../runtime/api-reader.js';

/**
 * Who a request to the read API comes from. Only the Kubernetes API server calls it: it has
 * authenticated the caller already, and forwards the request over TLS with its front-proxy client
 * certificate, naming the caller in headers (`X-Remote-User`, `X-Remote-Group`, ...). So the read
 * API trusts those headers only from a client whose certificate the front-proxy CA signed, with a
 * name the API server allows, exactly as Kubernetes' own aggregated servers do. The CA, the names
 * and the headers are the API server's, published in kube-system.
 */

const AUTHENTICATION_CONFIG_MAP = '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';

/** How the API server says whom it forwards a request for. */
export interface FrontProxy {
  /** The CA that signs the API server's front-proxy client certificate (PEM). */
  readonly clientCa: string;
  /** The common names that certificate may have; any, if empty. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

const list = (value: string | undefined): string[] => {
  try {
    const parsed: unknown = JSON.parse(value ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
};

/** The front-proxy settings from kube-system/extension-apiserver-authentication. */
export function frontProxyOf(configMap: V1ConfigMap | undefined): FrontProxy | undefined {
  const data = configMap?.data ?? {};
  const clientCa = data['requestheader-client-ca-file'];
  if (!clientCa) return undefined;
  return {
    clientCa,
    allowedNames: list(data['requestheader-allowed-names']),
    usernameHeaders: list(data['requestheader-username-headers']),
    uidHeaders: list(data['requestheader-uid-headers']),
    groupHeaders: list(data['requestheader-group-headers']),
    extraHeaderPrefixes: list(data['requestheader-extra-headers-prefix']),
  };
}

/**
 * Reads the API server's front-proxy settings. An API server started without them (no
 * `--requestheader-client-ca-file`) forwards nothing to aggregated APIs, and the error says so.
 */
export async function readFrontProxy(kc: KubeConfig): Promise<FrontProxy> {
  const proxy = frontProxyOf(await new ApiReader(kc).get<V1ConfigMap>(AUTHENTICATION_CONFIG_MAP));
  if (!proxy) {
    throw new Error(
      'kube-system/extension-apiserver-authentication has no requestheader-client-ca-file: the API server was started without --requestheader-client-ca-file and cannot forward requests to the logs API',
    );
  }
  return proxy;
}

/** A caller as the API server authenticated them. */
export interface Caller {
  readonly user: string;
  readonly uid: string | undefined;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, string[]>>;
}

/** What the TLS handshake established about the client. */
export interface Peer {
  /** Whether its certificate was signed by the front-proxy CA. */
  readonly authorized: boolean;
  readonly commonName: string | undefined;
}

/** A request's headers, each as every value it came with (Node's `headersDistinct`). */
export type Headers = Readonly<Record<string, readonly string[] | undefined>>;

/**
 * The caller a request was forwarded for, or why it is refused: a client that is not the API
 * server, or a forwarded request that names no user. Discovery (`forUser: false`) needs only the
 * API server's certificate; the API server asks for it on its own behalf.
 */
export function callerOf(
  peer: Peer,
  headers: Headers,
  proxy: FrontProxy,
  forUser = true,
): { caller: Caller | undefined } | { refused: string } {
  if (!peer.authorized)
    return { refused: 'only the Kubernetes API server may call the logs API (no front-proxy client certificate)' };
  if (proxy.allowedNames.length > 0 && !proxy.allowedNames.includes(peer.commonName ?? '')) {
    return {
      refused: `the client certificate's name "${peer.commonName ?? ''}" is not one the API server forwards with`,
    };
  }
  const first = (names: readonly string[]) =>
    names.map((n) => headers[n.toLowerCase()]?.find((v) => v.length > 0)).find((v) => v !== undefined);
  const user = first(proxy.usernameHeaders);
  if (!user) return forUser ? { refused: 'the request names no user' } : { caller: undefined };
  const groups = proxy.groupHeaders.flatMap((n) => headers[n.toLowerCase()] ?? []);
  const extra: Record<string, string[]> = {};
  for (const prefix of proxy.extraHeaderPrefixes.map((p) => p.toLowerCase())) {
    for (const [name, values] of Object.entries(headers)) {
      if (!name.startsWith(prefix) || !values) continue;
      // The API server writes each key lower-cased and percent-encoded.
      const key = decodeURIComponent(name.slice(prefix.length));
      extra[key] = [...(extra[key] ?? []), ...values];
    }
  }
  return { caller: { user, uid: first(proxy.uidHeaders), groups, extra } };
}
