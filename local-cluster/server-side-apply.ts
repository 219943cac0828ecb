import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadYaml,
  type KubernetesObject,
} from '@kubernetes/client-node';

export const FIELD_MANAGER = 'plinth';

/** Which object a failure is about, as kubectl would name it. */
export function describeObject(o: KubernetesObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind} ${ns}${o.metadata?.name}`;
}

/** The API server's message for a failed call, or its HTTP code when it sent none. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    return (body as { message?: string } | undefined)?.message ?? `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * The client serializes built-in kinds through its typed models, which drop manifest keys such as
 * `x-kubernetes-int-or-string` unless the object was first loaded into that model. loadYaml does
 * exactly that (JSON is YAML).
 */
function toClientModel(object: KubernetesObject): KubernetesObject {
  return loadYaml<KubernetesObject>(JSON.stringify(object));
}

export interface ApplyFailure {
  readonly object: string;
  readonly message: string;
}

/**
 * Server-side applies each object with the platform's field manager. Returns every failure,
 * naming the object and carrying the API server's own message, rather than stopping at the first.
 */
export async function serverSideApply(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  options: { dryRun?: boolean } = {},
): Promise<ApplyFailure[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const failures: ApplyFailure[] = [];
  for (const object of objects) {
    try {
      await client.patch(
        toClientModel(object),
        undefined,
        options.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (error) {
      failures.push({ object: describeObject(object), message: apiMessage(error) });
    }
  }
  return failures;
}

/** Applies and throws one error listing every failure. */
export async function applyOrThrow(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  options: { dryRun?: boolean } = {},
) {
  const failures = await serverSideApply(kc, objects, options);
  if (failures.length > 0) {
    throw new Error(
      `${failures.length} object(s) rejected${options.dryRun ? ' (dry run)' : ''}:\n` +
        failures.map((f) => `  - ${f.object}: ${f.message}`).join('\n'),
    );
  }
}

/** Applies CRDs and waits until the API server serves them. */
export async function installCrds(kc: KubeConfig, crds: readonly KubernetesObject[]): Promise<void> {
  await applyOrThrow(kc, crds);
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const crd of crds) {
    for (let i = 0; ; i++) {
      const current = (await client.read(crd as KubernetesObject & { metadata: { name: string } })) as unknown as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 300) throw new Error(`${describeObject(crd)} was not established within 30s`);
      await sleep(100);
    }
  }
}
