import { z } from 'zod';
import { imagePinning } from '../images.js';
import { isAnyAddress } from '../network-destination.js';

/** Values every section of the config checks the same way, each with an error that says what is allowed. */

export const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: 'must be a DNS label: lower-case letters, digits and "-", at most 63 characters',
});

/** A DNS subdomain: most object names, such as a ServiceAccount's or a PriorityClass's. */
export const dnsSubdomain = z
  .string()
  .max(253, { error: 'must be at most 253 characters' })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error:
      'must be a DNS subdomain: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
  });

/** Kubernetes quantities such as "500m", "2", "16Gi". */
export const quantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(
    z.string().regex(/^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]i?|Ki)?$/, {
      error: 'must be a Kubernetes quantity such as "500m", "2" or "16Gi", and not negative',
    }),
  );

/** Images are pinned: an exact tag (never "latest") or a digest. */
export const pinnedImage = z.string().superRefine((image, ctx) => {
  const { digest: hasDigest, tag } = imagePinning(image);
  if (!hasDigest && !tag) {
    ctx.addIssue({ code: 'custom', message: `image "${image}" is not pinned: add an exact tag or a @sha256 digest` });
  } else if (tag === 'latest') {
    ctx.addIssue({ code: 'custom', message: `image "${image}" uses "latest": pin an exact tag or a @sha256 digest` });
  }
});

export const mountPath = z
  .string()
  .regex(/^\/[^:]*[^/:]$/, { error: 'must be an absolute path other than "/", such as "/etc/plinth/git"' });

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: 'must be an environment variable name: letters, digits and "_", not starting with a digit',
});

export const domainName = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, { error: 'must be a DNS domain such as "ml.example.com"' });

export const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: 'must be a CIDR such as "10.20.0.0/16"' });

/** A CIDR that names addresses: a NetworkPolicy rule that is to be narrow may not be given all of them. */
export const namedCidr = cidr.refine((c) => !isAnyAddress(c), {
  error: 'covers every address, which names nothing: list the CIDRs the destination is in',
});
