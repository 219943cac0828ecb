import { describe, expect, it } from 'vitest';
import { callerOf, frontProxyOf, type FrontProxy } from '../../../controller/logs-api/request-identity.js';

/** kube-system/extension-apiserver-authentication as an API server started as kubeadm starts one publishes it. */
const PROXY = frontProxyOf({
  data: {
    'requestheader-client-ca-file': '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n',
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-username-headers': '["X-Remote-User"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
  },
}) as FrontProxy;
const API_SERVER = { authorized: true, commonName: 'front-proxy-client' };

describe('who a logs API request comes from', () => {
  it('reads the front-proxy settings the API server publishes, and none where it was started without them', () => {
    expect(PROXY).toMatchObject({ allowedNames: ['front-proxy-client'], uidHeaders: [] });
    expect(frontProxyOf({ data: {} })).toBeUndefined();
  });

  it('takes the caller the API server names, with every group and extra value', () => {
    const headers = {
      'x-remote-user': ['vision-observer'],
      'x-remote-group': ['vision', 'system:authenticated'],
      'x-remote-extra-scopes': ['a', 'b'],
      'x-remote-extra-example.com%2fteam': ['vision'],
    };
    expect(callerOf(API_SERVER, headers, PROXY)).toEqual({
      caller: {
        user: 'vision-observer',
        uid: undefined,
        groups: ['vision', 'system:authenticated'],
        extra: { scopes: ['a', 'b'], 'example.com/team': ['vision'] },
      },
    });
  });

  it('believes no header from a client the front-proxy CA did not sign, or one of another name', () => {
    const headers = { 'x-remote-user': ['system:admin'], 'x-remote-group': ['system:masters'] };
    expect(callerOf({ authorized: false, commonName: undefined }, headers, PROXY)).toEqual({
      refused: 'only the Kubernetes API server may call the logs API (no front-proxy client certificate)',
    });
    expect(callerOf({ authorized: true, commonName: 'kubelet' }, headers, PROXY)).toEqual({
      refused: 'the client certificate\'s name "kubelet" is not one the API server forwards with',
    });
  });

  it('serves discovery to the API server on its own behalf, and a read only for a named user', () => {
    expect(callerOf(API_SERVER, {}, PROXY, false)).toEqual({ caller: undefined });
    expect(callerOf(API_SERVER, {}, PROXY)).toEqual({ refused: 'the request names no user' });
  });
});
