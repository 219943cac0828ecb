import { z } from 'zod';
import { INGRESS_CONTROLLER_NAMESPACE } from '../names.js';
import { dnsLabel, domainName } from './primitives.js';

/** ingress: the platform's domain and how its TLS certificates are issued. */

export const tls = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('acme'),
      email: z.email({ error: 'an ACME issuer needs the email address of the certificate owner' }),
      server: z.url().default('https://acme-v02.api.letsencrypt.org/directory'),
    }),
    z.strictObject({
      kind: z.literal('issuer'),
      name: z.string().min(1),
      issuerKind: z.enum(['ClusterIssuer', 'Issuer']).default('ClusterIssuer'),
    }),
    z.strictObject({
      kind: z.literal('secret'),
      /** An existing TLS Secret, present in the platform namespace and in every team namespace. */
      secretName: z.string().min(1),
    }),
  ],
  { error: 'must be one of "acme", "issuer", "secret"' },
);

export const ingress = z.strictObject({
  domain: domainName,
  className: z.string().default('nginx'),
  /** Where the ingress controller runs; NetworkPolicies admit traffic from it to tracking and run services. */
  controllerNamespace: dnsLabel.default(INGRESS_CONTROLLER_NAMESPACE),
  tls,
});
