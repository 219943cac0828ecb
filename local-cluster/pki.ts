import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The harness's own certificate authority, made with the openssl CLI: Node's crypto makes keys but
 * cannot sign X.509 certificates, and openssl is on every machine that runs containers. It signs
 * what the real nodes need: the kubelets' serving certificates (which the API server verifies) and
 * the API server's client certificate for kubelets (which kubelets verify), so that only the API
 * server may read logs or exec into pods through a kubelet, never a pod on the node network.
 */
export interface CertificateAuthority {
  readonly cert: string;
  readonly key: string;
}

export interface SignedCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateRequest {
  /** File name stem in the CA's folder. */
  readonly name: string;
  readonly commonName: string;
  readonly organization?: string;
  readonly usage: 'server' | 'client';
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
}

/** A harness cluster lives for hours at most; a short validity keeps a leaked key harmless. */
const VALIDITY_DAYS = '7';
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error)
    throw new Error(`openssl could not run (${result.error.message}); install it (apt-get install openssl)`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

export function createCertificateAuthority(dir: string, commonName: string): CertificateAuthority {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  openssl([
    'req',
    '-x509',
    ...KEY,
    '-days',
    VALIDITY_DAYS,
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
  ]);
  return ca;
}

export function signCertificate(ca: CertificateAuthority, dir: string, request: CertificateRequest): SignedCertificate {
  const out = { cert: join(dir, `${request.name}.crt`), key: join(dir, `${request.name}.key`) };
  const csr = join(dir, `${request.name}.csr`);
  const extensions = join(dir, `${request.name}.ext`);
  const subject = `/CN=${request.commonName}${request.organization ? `/O=${request.organization}` : ''}`;
  const alternativeNames = [
    ...(request.ips ?? []).map((ip) => `IP:${ip}`),
    ...(request.dnsNames ?? []).map((d) => `DNS:${d}`),
  ];
  writeFileSync(
    extensions,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(alternativeNames.length > 0 ? [`subjectAltName=${alternativeNames.join(',')}`] : []),
    ].join('\n') + '\n',
  );
  openssl(['req', '-new', ...KEY, '-subj', subject, '-keyout', out.key, '-out', csr]);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', VALIDITY_DAYS].concat([
      '-extfile',
      extensions,
      '-out',
      out.cert,
    ]),
  );
  return out;
}
