import { createPrivateKey, X509Certificate as NodeCertificate } from 'node:crypto';
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * The read API's serving certificate, which the controller issues itself, as Kueue does for its
 * visibility API: a platform without cert-manager (TLS from a Secret, the local cluster) serves it
 * too, and no private key ever appears in a manifest. It is self-signed and kept in a Secret of the
 * platform's namespace, which every replica serves from; the APIService's caBundle carries it, so
 * that the API server verifies whom it forwards a team's logs to. Pure functions here; the
 * Secret and the APIService are written by logs-api-certificates.ts.
 */

/** A year: rotated by the controller long before, with no one's help. */
export const VALIDITY_DAYS = 365;
/** Renewed once less than this is left, which leaves the old one trusted beside it meanwhile. */
export const RENEW_BEFORE_DAYS = 90;

const DAY_MS = 24 * 60 * 60 * 1000;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its key, as PEM, as a `kubernetes.io/tls` Secret holds them. */
export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
}

/** The names the API server dials a Service by (`<service>.<namespace>.svc`), and its longer form. */
export const serviceHosts = (service: { name: string; namespace: string }): string[] => [
  `${service.name}.${service.namespace}.svc`,
  `${service.name}.${service.namespace}.svc.cluster.local`,
];

/** A new key and a self-signed certificate for the hosts, valid from now. */
export async function issueServingCertificate(hosts: readonly string[], now: Date): Promise<ServingCertificate> {
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${hosts[0] ?? 'plinth-logs-api'}`,
    // A minute back, for API servers whose clock is a little behind.
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((value) => ({ type: 'dns' as const, value }))),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/**
 * Whether a certificate still serves: its key is its own, it names every host, and more than
 * RENEW_BEFORE_DAYS are left. Anything unreadable does not.
 */
export function stillServes(certificate: ServingCertificate, hosts: readonly string[], now: Date): boolean {
  try {
    const cert = new NodeCertificate(certificate.cert);
    if (!cert.checkPrivateKey(createPrivateKey(certificate.key))) return false;
    if (!hosts.every((host) => cert.checkHost(host, { wildcards: false }) === host)) return false;
    return new Date(cert.validTo).getTime() - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS;
  } catch {
    return false;
  }
}

/** The certificates of a PEM bundle, each as PEM. */
export const pemCertificates = (bundle: string): string[] =>
  bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/**
 * What the API server trusts after a rotation: the new certificate, and those of the old bundle
 * that have not expired, so that a replica still serving the old one is trusted until it reloads.
 */
export function trustedAfterRotation(current: string, previousBundle: string, now: Date): string {
  const kept = pemCertificates(previousBundle).filter((pem) => {
    try {
      return pem !== current.trim() && new Date(new NodeCertificate(pem).validTo).getTime() > now.getTime();
    } catch {
      return false;
    }
  });
  return [current.trim(), ...kept].join('\n') + '\n';
}
