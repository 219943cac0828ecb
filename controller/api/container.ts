import { Type, type Static } from '@sinclair/typebox';
import {
  Dns1123Label,
  Dns1123Subdomain,
  EnvVarName,
  IanaServiceName,
  Refused,
  Quantity,
  StringEnum,
  StringMap,
  forbidden,
  qualifiedKeys,
  type CelRule,
} from './schema-helpers.js';
import { SecurityContext } from './security-floor.js';

/**
 * A run's container, closed: only the fields below are accepted, each bounded, and anything else is
 * refused at apply time as an unknown field. A container whose unknown fields were kept let one
 * team store megabytes per Run, which every controller replica holds in memory; and each field
 * accepted here is one the controller passes to a pod, so it is one the platform has looked at.
 *
 * The bounds keep a Run small whatever its author writes: CONTAINER_TEXT_BUDGET caps the free text
 * of a container (its command, args and env values together), and every other field has a length
 * or count limit sized for what ML workloads write. Limits are on the container as written; the
 * platform's own env and mounts come on top.
 */
export const CONTAINER_LIMITS = {
  /** Characters of command, args and env values together, per container. */
  textBudget: 16384,
  commandItems: 64,
  argsItems: 128,
  envItems: 64,
  envNameLength: 128,
  envFromItems: 8,
  volumeMountItems: 16,
  pathLength: 512,
  portItems: 16,
  probeCommandItems: 16,
  probeTextLength: 1024,
  probeHeaderItems: 8,
} as const;

const L = CONTAINER_LIMITS;

/**
 * Why a container may not name a Secret: an editor, who cannot read the team's Secrets, would read
 * any of them through a run, past the team's connection allow-list.
 */
const SECRETS_THROUGH_CONNECTIONS =
  "a run reads Secrets only through spec.connections, the platform's connections its team may use: name the connection instead";

const ConfigMapName = Dns1123Subdomain("A ConfigMap in the run's namespace.");

const EnvVarSource = Type.Object(
  {
    fieldRef: Type.Optional(
      Type.Object(
        {
          apiVersion: Type.Optional(Type.String({ maxLength: 64, description: 'Defaults to v1.' })),
          fieldPath: Type.String({ minLength: 1, maxLength: 256, description: 'Such as metadata.name.' }),
        },
        { description: "A field of the pod's." },
      ),
    ),
    resourceFieldRef: Type.Optional(
      Type.Object(
        {
          containerName: Type.Optional(Dns1123Label('The container; this one when left out.')),
          resource: Type.String({ minLength: 1, maxLength: 64, description: 'Such as limits.cpu.' }),
          divisor: Type.Optional(
            Type.Unsafe<string | number>({ ...Quantity, description: 'The unit the value is given in; 1 by default.' }),
          ),
        },
        { description: "A container's request or limit." },
      ),
    ),
    configMapKeyRef: Type.Optional(
      Type.Object(
        {
          name: ConfigMapName,
          key: Type.String({ minLength: 1, maxLength: 253, description: 'The key.' }),
          optional: Type.Optional(Type.Boolean({ description: 'Whether the ConfigMap or key may be missing.' })),
        },
        { description: "A key of a ConfigMap in the run's namespace." },
      ),
    ),
    secretKeyRef: Type.Optional(Refused<Record<string, unknown>>('Refused: Secrets come through connections.')),
  },
  {
    description: 'Where the value comes from: the pod, a resource, or a ConfigMap.',
    'x-kubernetes-validations': [
      forbidden('!has(self.secretKeyRef)', '.secretKeyRef', SECRETS_THROUGH_CONNECTIONS),
      {
        rule: '(has(self.fieldRef) ? 1 : 0) + (has(self.resourceFieldRef) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) == 1',
        message: 'valueFrom takes exactly one of fieldRef, resourceFieldRef and configMapKeyRef',
        reason: 'FieldValueInvalid',
      },
    ] satisfies CelRule[],
  },
);

const EnvVar = Type.Object(
  {
    name: EnvVarName('The variable name: printable ASCII characters but =.', L.envNameLength),
    value: Type.Optional(
      Type.String({
        maxLength: L.textBudget,
        description: 'The value; $(NAME) expands an env var defined before it.',
      }),
    ),
    valueFrom: Type.Optional(EnvVarSource),
  },
  {
    description: 'An env var: a value, or where its value comes from.',
    'x-kubernetes-validations': [
      forbidden(
        "!has(self.valueFrom) || !has(self.value) || self.value == ''",
        '.valueFrom',
        'an env var takes a value or valueFrom, not both',
      ),
    ] satisfies CelRule[],
  },
);

const EnvFromSource = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 253, description: 'Added before every variable name.' })),
    configMapRef: Type.Optional(
      Type.Object(
        {
          name: ConfigMapName,
          optional: Type.Optional(Type.Boolean({ description: 'Whether the ConfigMap may be missing.' })),
        },
        { description: "A ConfigMap in the run's namespace, each key a variable." },
      ),
    ),
    secretRef: Type.Optional(Refused<Record<string, unknown>>('Refused: Secrets come through connections.')),
  },
  {
    description: 'A source of env vars: a ConfigMap.',
    'x-kubernetes-validations': [
      forbidden('!has(self.secretRef)', '.secretRef', SECRETS_THROUGH_CONNECTIONS),
      {
        rule: 'has(self.configMapRef)',
        message: 'an envFrom source needs configMapRef',
        fieldPath: '.configMapRef',
        reason: 'FieldValueRequired',
      },
    ] satisfies CelRule[],
  },
);

const ResourceList = (description: string) =>
  Type.Unsafe<Record<string, string | number>>({
    ...StringMap(Quantity, { maxProperties: 8, description }),
    'x-kubernetes-validations': [qualifiedKeys('resource name')],
  });

const VolumeMount = Type.Object(
  {
    name: Dns1123Label("The pod volume to mount: the artifact store's or a named connection's."),
    mountPath: Type.String({ minLength: 1, maxLength: L.pathLength, description: 'Where in the container.' }),
    readOnly: Type.Optional(Type.Boolean({ description: 'Mounts the volume read-only.' })),
    subPath: Type.Optional(
      Type.String({ maxLength: L.pathLength, description: 'A path inside the volume to mount instead of its root.' }),
    ),
  },
  { description: "A mount of one of the pod's volumes." },
);

/** A port by number, or by the name of one of the container's ports. */
const PortNumberOrName = Type.Unsafe<number | string>({
  // A structural schema allows int-or-string only as exactly these two types, and a CEL rule on it
  // costs more than the CRD's budget allows at the depth of a dag's templates: the API server
  // checks the port where the pod is made, naming the field.
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  description: "A port number, or the name of one of the container's ports.",
});

/**
 * A probe, run by the kubelet. No `host`: the kubelet probes from the node, where the team's
 * NetworkPolicies do not apply, so a host of the run's choosing would let it reach any address.
 */
const Probe = Type.Object(
  {
    exec: Type.Optional(
      Type.Object(
        {
          command: Type.Array(Type.String({ maxLength: L.probeTextLength }), {
            minItems: 1,
            maxItems: L.probeCommandItems,
            description: 'Run in the container; exit status 0 is healthy.',
          }),
        },
        { description: 'A command in the container.' },
      ),
    ),
    httpGet: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ maxLength: L.probeTextLength, description: 'The path; / by default.' })),
          port: PortNumberOrName,
          scheme: Type.Optional(StringEnum(['HTTP', 'HTTPS'], { description: 'Defaults to HTTP.' })),
          httpHeaders: Type.Optional(
            Type.Array(
              Type.Object({
                name: Type.String({ minLength: 1, maxLength: 128, description: 'The header name.' }),
                value: Type.String({ maxLength: L.probeTextLength, description: 'The header value.' }),
              }),
              { maxItems: L.probeHeaderItems, description: 'Headers sent with the request.' },
            ),
          ),
        },
        { description: "An HTTP GET on the pod's address; healthy from 200 to 399." },
      ),
    ),
    tcpSocket: Type.Optional(
      Type.Object({ port: PortNumberOrName }, { description: "A TCP connection to the pod's address." }),
    ),
    grpc: Type.Optional(
      Type.Object(
        {
          port: Type.Integer({ minimum: 1, maximum: 65535, description: 'The port.' }),
          service: Type.Optional(Type.String({ maxLength: 256, description: 'The gRPC health service name.' })),
        },
        { description: "A gRPC health check on the pod's address." },
      ),
    ),
    initialDelaySeconds: Type.Optional(Type.Integer({ minimum: 0, description: 'Seconds before the first probe.' })),
    periodSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds between probes; 10 by default.' })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds a probe may take; 1 by default.' })),
    successThreshold: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Successes in a row that make it healthy again.' }),
    ),
    failureThreshold: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Failures in a row that make it unhealthy; 3 by default.' }),
    ),
    terminationGracePeriodSeconds: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Seconds the container has to stop after a failed liveness probe.' }),
    ),
  },
  {
    description: 'A health check: exactly one of exec, httpGet, tcpSocket and grpc.',
    'x-kubernetes-validations': [
      {
        rule: '(has(self.exec) ? 1 : 0) + (has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) + (has(self.grpc) ? 1 : 0) == 1',
        message: 'a probe takes exactly one of exec, httpGet, tcpSocket and grpc',
        reason: 'FieldValueInvalid',
      },
    ] satisfies CelRule[],
  },
);

/** The characters of a list of strings, in CEL, or 0 where the list is absent. */
const textOf = (list: string) => `(has(self.${list}) ? self.${list}.map(s, size(s)).sum() : 0)`;

/** Container names the platform adds to a run's pods (its network gate): a run's own may not take them. */
export const PLATFORM_CONTAINER_PREFIX = 'plinth-';

export const Container = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        ...Dns1123Label(
          `Defaults to main, or init-<index> for an init container. Names starting with ${PLATFORM_CONTAINER_PREFIX} are the platform's.`,
        ),
        'x-kubernetes-validations': [
          {
            rule: `!self.startsWith('${PLATFORM_CONTAINER_PREFIX}')`,
            message: `names starting with ${PLATFORM_CONTAINER_PREFIX} are the platform's own containers'`,
          },
        ],
      }),
    ),
    image: Type.String({ minLength: 1, maxLength: 512, description: 'Container image, pinned by tag or digest.' }),
    imagePullPolicy: Type.Optional(
      StringEnum(['Always', 'IfNotPresent', 'Never'], {
        description: 'When the kubelet pulls the image; Always for :latest, IfNotPresent otherwise.',
      }),
    ),
    command: Type.Optional(
      Type.Array(Type.String({ maxLength: L.textBudget }), {
        maxItems: L.commandItems,
        description: "The entrypoint; the image's when left out.",
      }),
    ),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: L.textBudget }), {
        maxItems: L.argsItems,
        description: 'Arguments to the entrypoint. $(NAME) expands any env var, params included.',
      }),
    ),
    workingDir: Type.Optional(
      Type.String({ maxLength: L.pathLength, description: "The working directory; the image's when left out." }),
    ),
    envFrom: Type.Optional(
      Type.Array(EnvFromSource, {
        maxItems: L.envFromItems,
        description: "Env vars from ConfigMaps, after the connections'.",
      }),
    ),
    env: Type.Optional(
      Type.Array(EnvVar, {
        maxItems: L.envItems,
        description: "Env vars, after the platform's, params' and connections': where a name repeats, this one wins.",
      }),
    ),
    resources: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(
            ResourceList('Quantities the scheduler reserves, by resource: cpu, memory, nvidia.com/gpu.'),
          ),
          limits: Type.Optional(ResourceList('Quantities the container may not exceed, by resource.')),
        },
        {
          description:
            "Requests and limits. nvidia.com/gpu is refused on a CPU pool, and counts against the team's GPU quota.",
        },
      ),
    ),
    volumeMounts: Type.Optional(
      Type.Array(VolumeMount, {
        maxItems: L.volumeMountItems,
        description:
          "Further mounts of the pod's volumes: the artifact store's and the named connections'. The platform mounts them already.",
      }),
    ),
    ports: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.Optional(IanaServiceName('An IANA service name, by which probes may name the port.')),
          containerPort: Type.Integer({
            minimum: 1,
            maximum: 65535,
            description: 'The port the container listens on.',
          }),
          protocol: Type.Optional(
            StringEnum(['TCP', 'UDP', 'SCTP'], { description: 'Defaults to TCP.', default: 'TCP' }),
          ),
        }),
        {
          maxItems: L.portItems,
          // Keyed as a pod's container ports are, so that one port twice is refused here by name.
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
          description: "Ports the container listens on, for information and probes. A service run's are in its ports.",
        },
      ),
    ),
    livenessProbe: Type.Optional(Probe),
    readinessProbe: Type.Optional(Probe),
    startupProbe: Type.Optional(Probe),
    securityContext: Type.Optional(SecurityContext),
    terminationMessagePolicy: Type.Optional(
      StringEnum(['File', 'FallbackToLogsOnError'], {
        description: 'FallbackToLogsOnError makes the last log lines the termination message when the file is empty.',
      }),
    ),
  },
  {
    description: `A container. Closed: only these fields, each bounded. Command, args and env values together take at most ${L.textBudget} characters. The platform adds its env, mounts and security floor.`,
    'x-kubernetes-validations': [
      {
        rule: `${textOf('command')} + ${textOf('args')} + (has(self.env) ? self.env.map(e, has(e.value) ? size(e.value) : 0).sum() : 0) <= ${L.textBudget}`,
        message: `command, args and env values take at most ${L.textBudget} characters together; put longer scripts or values in the image, a ConfigMap or the artifact store`,
        reason: 'FieldValueInvalid',
      },
    ] satisfies CelRule[],
  },
);
export type Container = Static<typeof Container>;
