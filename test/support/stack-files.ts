import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** A committed stack file's config as the Pulumi runtime hands it over: structured values as JSON. */
export function stackFileConfig(stack: string): Record<string, string> {
  const file = parse(readFileSync(new URL(`../../Pulumi.${stack}.yaml`, import.meta.url), 'utf8')) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(file.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

/** Images pinned by digest, as a production stack must set them. */
const DIGEST = `@sha256:${'a'.repeat(64)}`;
export const DIGEST_PINNED_IMAGES = {
  controller: `ghcr.io/plinth-dev/controller:0.1.0${DIGEST}`,
  trackingServer: `ghcr.io/mlflow/mlflow:v2.22.1${DIGEST}`,
  postgres: `ghcr.io/cloudnative-pg/postgresql:17.5${DIGEST}`,
};
