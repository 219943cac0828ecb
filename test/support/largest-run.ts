import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { RUN_API_VERSION, RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION, RunSpec } from '../../controller/api/run.js';
import { CONTAINER_LIMITS, type Container } from '../../controller/api/container.js';

/**
 * The largest Run of kind job the Run schema lets a team store, built by walking the schema
 * (controller/api/run.ts), so that it follows every change of the schema: each string as long as
 * its maxLength, each list as long as its maxItems, each map as large as its maxProperties. What
 * the schema leaves unbounded gets UNBOUNDED, and is listed, since a team could write more there.
 *
 * A few fields are given rather than filled, because what they say decides whether the run is
 * valid at all: its kind, pool and connections, and its containers' resources (a request the pool
 * cannot hold would fail the run). Fields that must name an object of the cluster (a
 * PriorityClass, a ServiceAccount) or that the schema keeps opaque (an affinity) are left out, and
 * so are the other kinds' sections. `fitLargestRun` then asks the API server (a dry run) and
 * drops or scales down what it refuses.
 */

/** The length of a string, and the items of a list or map, where the schema sets no bound. */
export const UNBOUNDED = { length: 1024, items: 16 } as const;
/**
 * The largest object etcd stores, less room for metadata and status: a larger Run is refused
 * whatever its schema says.
 */
const OBJECT_LIMIT = 1_400_000;
/** The longest prefix of a qualified key, a DNS subdomain, and the longest name after it. */
const KEY_PREFIX_LENGTH = 253;
const KEY_NAME_LENGTH = 63;

/** A DNS subdomain of about `length` characters: labels of 63 letters, a letter at both ends. */
function subdomain(length: number): string {
  const labels: string[] = [];
  for (let left = Math.max(1, length); left > 0; left -= 64) labels.push('a'.repeat(Math.min(63, left)));
  return labels.join('.');
}

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string }[];
};

export interface LargestRunOptions {
  /** The pool the run names: one its team may use. */
  readonly pool: string;
  /** Connections the run names: ones its team may use. */
  readonly connections: readonly string[];
  /** Pod annotations the run must have (a simulated duration, say), beside those filled. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Field paths (`spec.job.container.env.valueFrom`, without indices or keys) left out. */
  readonly skip?: ReadonlySet<string>;
  /** The share of each bound filled, from 0 to 1: 1 fills every field to its bound. */
  readonly scale?: number;
  /** The share of UNBOUNDED filled where the schema sets no bound. */
  readonly unboundedScale?: number;
}

/** Given, not filled: what decides the run's validity, or what names objects of the cluster. */
const GIVEN_RESOURCES = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } };
const LEFT_OUT = [
  'spec.stopped',
  'spec.service',
  'spec.dag',
  'spec.matrix',
  'spec.schedule',
  'spec.environment.priorityClassName',
  'spec.environment.serviceAccountName',
  // A Job deleted as soon as it ends would be made again: the run would never finish.
  'spec.job.termination.ttl',
];

/** What a build left unbounded, by field path. */
export interface LargestRun {
  readonly spec: RunSpec;
  readonly unbounded: readonly string[];
}

export function largestRunSpec(options: LargestRunOptions): LargestRun {
  const scale = options.scale ?? 1;
  const unboundedScale = options.unboundedScale ?? 1;
  const skip = new Set([...LEFT_OUT, ...(options.skip ?? [])]);
  const unbounded = new Set<string>();
  /** How much of a bound to fill, or of UNBOUNDED's where there is none. */
  const fill = (bound: number | undefined, path: string, fallback: number) => {
    if (bound !== undefined) return Math.floor(bound * scale);
    unbounded.add(path);
    return Math.floor(fallback * unboundedScale);
  };
  const count = (bound: number | undefined, path: string, least = 0) =>
    Math.max(least, fill(bound, path, UNBOUNDED.items));

  const given: Record<string, unknown> = {
    'spec.kind': 'job',
    'spec.pool': options.pool,
    'spec.connections': [...options.connections],
    'spec.job.container.resources': GIVEN_RESOURCES,
    'spec.job.init.resources': GIVEN_RESOURCES,
  };

  /** A tag that makes each item of a list, and each key of a map, unique: a, b, ..., ba, bb. */
  const tagOf = (index: number) => {
    let tag = '';
    do {
      tag = String.fromCharCode(97 + (index % 26)) + tag;
      index = Math.floor(index / 26);
    } while (index > 0);
    return tag;
  };

  const string = (schema: Schema, path: string, tag: string): string | undefined => {
    if (schema.enum) return [...(schema.enum as string[])].sort((a, b) => b.length - a.length)[0];
    if (schema.format === 'date-time') return new Date(0).toISOString();
    const longest = Math.max(schema.minLength ?? 0, fill(schema.maxLength, path, UNBOUNDED.length));
    const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
    // Letters fit most formats (names, labels, env names); digits fit quantities.
    for (let length = longest; length >= Math.max(schema.minLength ?? 0, 1); length = Math.floor(length / 2)) {
      for (const fill of ['a', '1']) {
        const candidate = fill.repeat(Math.max(0, length - tag.length)) + (fill === 'a' ? tag : '');
        if (candidate.length >= (schema.minLength ?? 0) && (!pattern || pattern.test(candidate))) return candidate;
      }
    }
    return undefined;
  };

  /** Fields an object's CEL rules refuse outright (`!has(self.x)`): declared only to be refused. */
  const refused = (schema: Schema) =>
    new Set(
      (schema['x-kubernetes-validations'] ?? []).flatMap((v) => {
        const match = /^!has\(self\.(\w+)\)$/.exec(v.rule.trim());
        return match?.[1] ? [match[1]] : [];
      }),
    );

  const value = (schema: Schema, path: string, tag: string): unknown => {
    if (path in given) return structuredClone(given[path]);
    if (skip.has(path)) return undefined;
    if (schema.anyOf) {
      // An int-or-string: its string form is the longer.
      const asString = schema.anyOf.find((s) => s.type === 'string');
      return asString ? string({ ...asString, pattern: schema.pattern }, path, tag) : 1;
    }
    switch (schema.type) {
      case 'string':
        return string(schema, path, tag);
      case 'integer':
      case 'number':
        return Math.min(schema.maximum ?? Infinity, Math.max(schema.minimum ?? 1, 1));
      case 'boolean':
        return false;
      case 'array': {
        const items = count(schema.maxItems, path, schema.minItems ?? 0);
        const list = Array.from({ length: items }, (_, i) => value(schema.items ?? {}, path, `${tag}${tagOf(i)}`));
        return list.filter((item) => item !== undefined);
      }
      case 'object': {
        if (schema.properties) {
          const out = refused(schema);
          const object: Record<string, unknown> = {};
          for (const [key, child] of Object.entries(schema.properties)) {
            if (out.has(key)) continue;
            const v = value(child, `${path}.${key}`, tag);
            if (v !== undefined) object[key] = v;
          }
          // An object whose every field was left out says nothing: it is left out too.
          return Object.keys(object).length > 0 || (schema.required ?? []).length > 0 ? object : undefined;
        }
        if (typeof schema.additionalProperties === 'object') {
          const keys = count(schema.maxProperties, path);
          // Qualified keys, as every map of the schema has: a long prefix, then a long name.
          const prefix = subdomain(Math.floor(KEY_PREFIX_LENGTH * scale));
          const entries = Array.from({ length: keys }, (_, i) => {
            const name = `${'k'.repeat(Math.max(0, Math.floor((KEY_NAME_LENGTH - 1) * scale) - tagOf(i).length))}${tagOf(i)}z`;
            return [
              `${prefix}/${name}`,
              value(schema.additionalProperties as Schema, path, `${tag}${tagOf(i)}`),
            ] as const;
          });
          return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
        }
        // Opaque (preserve-unknown-fields): whatever it holds is another API's, left out.
        return undefined;
      }
      default:
        return undefined;
    }
  };

  const spec = value(RunSpec as unknown as Schema, 'spec', '') as RunSpec;
  for (const container of [spec.job?.container, ...(spec.job?.init ?? [])]) {
    if (container) fitTextBudget(container);
  }
  if (options.annotations) {
    spec.environment = {
      ...spec.environment,
      annotations: { ...spec.environment?.annotations, ...options.annotations },
    };
  }
  return { spec, unbounded: [...unbounded].sort() };
}

/**
 * Shortens a container's command, args and env values, each filled to its own bound, to share the
 * text budget the CRD holds them to together (CONTAINER_LIMITS): its every item is kept, each of
 * an equal share, so that the run is as large as the budget allows rather than refused.
 */
function fitTextBudget(container: Container): void {
  const items = (container.command?.length ?? 0) + (container.args?.length ?? 0) + (container.env?.length ?? 0);
  if (items === 0) return;
  const share = Math.floor(CONTAINER_LIMITS.textBudget / items);
  // The end of a filled string is its tag, which keeps items unique.
  const cut = (text: string) => text.slice(-share);
  if (container.command) container.command = container.command.map(cut);
  if (container.args) container.args = container.args.map(cut);
  container.env = container.env?.map((e) => (e.value === undefined ? e : { ...e, value: cut(e.value) }));
}

/** A field path of an API server error, as largestRunSpec names fields: without indices or keys. */
const schemaPath = (field: string) => field.replace(/\[[^\]]*\]/g, '');

/** What fitting a largest run to the API server took. */
export interface FittedRun extends LargestRun {
  /** The share of each bound filled: below 1 where the server refused the run at full size. */
  readonly scale: number;
  /** The share of UNBOUNDED filled. */
  readonly unboundedScale: number;
  /** Fields the server refused, left out, with its reason. */
  readonly dropped: readonly string[];
  /** Why the run was scaled down, each time it was. */
  readonly scaledDown: readonly string[];
  /** The run's size, in characters of JSON. */
  readonly size: number;
}

/**
 * The largest run the API server takes in `namespace`, built by largestRunSpec. A run larger than
 * etcd stores is first made to fit by filling less of what the schema leaves unbounded, then, if
 * the bounds alone are more than that, less of every bound: the largest share that fits, found by
 * halving the interval. Then it is offered to the server as a dry run. An optional field the
 * server refuses is left out; anything else it refuses (a CEL rule's cost budget, a required
 * field's format) takes a quarter off the share of each bound filled. Says what it dropped and why
 * it scaled down.
 */
export async function fitLargestRun(
  kc: KubeConfig,
  namespace: string,
  options: Omit<LargestRunOptions, 'skip' | 'scale' | 'unboundedScale'>,
): Promise<FittedRun> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const skip = new Set<string>();
  const dropped: string[] = [];
  const scaledDown: string[] = [];
  const build = (scale: number, unboundedScale: number) => {
    const built = largestRunSpec({ ...options, skip, scale, unboundedScale });
    const body = { apiVersion: RUN_API_VERSION, kind: RUN_KIND, metadata: { name: 'largest' }, spec: built.spec };
    return { built, body, size: JSON.stringify(body).length };
  };
  /** The largest share in (0, `from`] at which the run fits in etcd, to within 1/64 of `from`. */
  const largestFitting = (size: (share: number) => number, from: number) => {
    if (size(from) <= OBJECT_LIMIT) return from;
    let [fits, fails] = [0, from];
    while (fails - fits > from / 64) {
      const mid = (fits + fails) / 2;
      if (size(mid) <= OBJECT_LIMIT) fits = mid;
      else fails = mid;
    }
    return fits;
  };
  let scale = 1;
  let unboundedScale = 1;
  for (let attempt = 0; attempt < 40; attempt++) {
    const full = build(scale, unboundedScale).size;
    if (full > OBJECT_LIMIT) {
      const tooLarge = `${full} characters, more than etcd stores (about ${OBJECT_LIMIT})`;
      unboundedScale = largestFitting((u) => build(scale, u).size, unboundedScale);
      if (unboundedScale > 0) {
        scaledDown.push(`unbounded fields filled at ${unboundedScale} of UNBOUNDED: at full, ${tooLarge}`);
      } else {
        unboundedScale = 1 / 64;
        scale = largestFitting((b) => build(b, unboundedScale).size, scale);
        scaledDown.push(`every bound filled at ${scale}, unbounded fields at 1/64 of UNBOUNDED: at full, ${tooLarge}`);
      }
    }
    const { built, body, size } = build(scale, unboundedScale);
    try {
      await api.createNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace,
        body,
        dryRun: 'All',
      });
      return { ...built, scale, unboundedScale, dropped, scaledDown, size };
    } catch (error) {
      if (!(error instanceof ApiException)) throw error;
      const status = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as {
        message?: string;
        details?: { causes?: { field?: string; message?: string }[] };
      };
      const causes = status.details?.causes ?? [];
      const optional = causes.filter((c) => c.field && isOptional(schemaPath(c.field)));
      if (optional.length > 0 && optional.length === causes.length) {
        for (const cause of optional) {
          const path = schemaPath(cause.field ?? '');
          if (!skip.has(path)) dropped.push(`${path}: ${cause.message}`);
          skip.add(path);
        }
        continue;
      }
      scaledDown.push(
        `every bound filled at ${scale * 0.75}: at ${scale}, ${status.message ?? error.message}`.slice(0, 400),
      );
      scale *= 0.75;
    }
  }
  throw new Error(`the API server refused every run tried; last reasons: ${scaledDown.slice(-3).join('; ')}`);
}

/** Whether a field path names an optional field of the Run schema. */
function isOptional(path: string): boolean {
  const keys = path.split('.').slice(1);
  let schema = RunSpec as unknown as Schema;
  let optional = false;
  for (const key of keys) {
    while (schema.type === 'array' && schema.items) schema = schema.items;
    const child = schema.properties?.[key];
    if (!child) return false;
    optional = !(schema.required ?? []).includes(key);
    schema = child;
  }
  return optional;
}
