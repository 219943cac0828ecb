import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import {
  Certificate,
  CertificateSpecPrivateKeyAlgorithm,
  CertificateSpecPrivateKeyRotationPolicy,
} from './imports/cert-manager-certificate-cert-manager.io.js';
import { ClusterIssuer } from './imports/cert-manager-clusterissuer-cert-manager.io.js';
import { ACME_HTTP01_SOLVER_LABEL, componentLabels } from '../model/labels.js';
import { AllowTraffic, namespacePeer } from './network-policies.js';
import { TRACKING_COMPONENT, TRACKING_PORT, trackingHost, tlsSecretName } from '../model/names.js';

export const INGRESS_COMPONENT = 'ingress';

/** The cert-manager issuer certificates are requested from, or undefined when TLS comes from a Secret. */
export function certificateIssuer(config: PlatformConfig): { name: string; kind: string } | undefined {
  const tls = config.ingress.tls;
  switch (tls.kind) {
    case 'acme':
      return { name: `plinth-${config.name}-acme`, kind: 'ClusterIssuer' };
    case 'issuer':
      return { name: tls.name, kind: tls.issuerKind };
    case 'secret':
      return undefined;
  }
}

export interface TlsCertificateProps {
  readonly config: PlatformConfig;
  readonly namespace: string;
  readonly name: string;
  readonly host: string;
  readonly component: string;
}

/**
 * A cert-manager Certificate for one host, when TLS is issued by cert-manager. Over ACME, the
 * HTTP-01 challenge is answered by solver pods that cert-manager starts in the Certificate's
 * namespace, which Let's Encrypt reaches through the ingress controller: so the namespace admits
 * the ingress controller to them.
 */
export class TlsCertificate extends Construct {
  constructor(scope: Construct, id: string, props: TlsCertificateProps) {
    super(scope, id);
    const issuer = certificateIssuer(props.config);
    if (!issuer) return;
    const labels = componentLabels(props.config.name, props.component);
    if (props.config.ingress.tls.kind === 'acme') {
      new AllowTraffic(this, 'allow-acme-solver', {
        metadata: { name: 'allow-acme-solver', namespace: props.namespace, labels },
        podSelector: { matchLabels: { [ACME_HTTP01_SOLVER_LABEL]: 'true' } },
        ingress: [{ from: [namespacePeer(props.config.ingress.controllerNamespace)] }],
      });
    }
    new Certificate(this, 'certificate', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels,
      },
      spec: {
        secretName: props.name,
        dnsNames: [props.host],
        issuerRef: { name: issuer.name, kind: issuer.kind, group: 'cert-manager.io' },
        privateKey: {
          rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS,
          algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA,
          size: 256,
        },
      },
    });
  }
}

export interface PlatformIngressProps {
  readonly config: PlatformConfig;
}

/** The TLS route to the tracking server, and the ACME ClusterIssuer when the environment asks for one. */
export class PlatformIngress extends Construct {
  constructor(scope: Construct, id: string, props: PlatformIngressProps) {
    super(scope, id);
    const { config } = props;
    const labels = componentLabels(config.name, INGRESS_COMPONENT);
    const tls = config.ingress.tls;
    const issuer = certificateIssuer(config);

    if (tls.kind === 'acme' && issuer) {
      new ClusterIssuer(this, 'acme-issuer', {
        metadata: { name: issuer.name, labels },
        spec: {
          acme: {
            email: tls.email,
            server: tls.server,
            privateKeySecretRef: { name: `${issuer.name}-account-key` },
            solvers: [{ http01: { ingress: { ingressClassName: config.ingress.className } } }],
          },
        },
      });
    }

    const host = trackingHost(config);
    const certificateName = 'tracking-tls';
    new TlsCertificate(this, 'tracking-certificate', {
      config,
      namespace: config.namespace,
      name: certificateName,
      host,
      component: INGRESS_COMPONENT,
    });

    new k8s.KubeIngress(this, 'tracking', {
      metadata: { name: TRACKING_COMPONENT, namespace: config.namespace, labels },
      spec: {
        ingressClassName: config.ingress.className,
        tls: [{ hosts: [host], secretName: tlsSecretName(config, certificateName) }],
        rules: [
          {
            host,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: TRACKING_COMPONENT, port: { number: TRACKING_PORT } } },
                },
              ],
            },
          },
        ],
      },
    });
  }
}
