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

/** The images a stack file pins, by their platform config key, and the registry it names them in. */
export function stackFileImages(stack: string): Record<string, string> {
  const images = stackFileConfig(stack)['plinth:images'];
  return images ? (JSON.parse(images) as Record<string, string>) : {};
}
