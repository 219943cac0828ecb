import type { V1LabelSelector } from '@kubernetes/client-node';
import { Type, type Static } from '@sinclair/typebox';
import {
  LabelValue,
  Refused,
  QUALIFIED_NAME,
  StringEnum,
  StringMap,
  forbidden,
  qualifiedKeys,
  type CelRule,
} from './schema-helpers.js';

/**
 * A run's affinity, closed. Node affinity can only narrow the pool's placement, since the scheduler
 * needs both it and the pool's nodeSelector. Pod affinity and anti-affinity reach only pods of the
 * run's own namespace, its team's: a term naming other namespaces let one run's required
 * anti-affinity keep another team's pods off every node, so `namespaces` and `namespaceSelector`
 * are refused, and each team's quota refuses such pods too (the CrossNamespacePodAffinity scope).
 */

const Key = (description: string) =>
  Type.String({ minLength: 1, maxLength: 317, pattern: QUALIFIED_NAME, description });
const Weight = Type.Integer({ minimum: 1, maximum: 100, description: 'How much the preference counts, 1 to 100.' });

const NodeSelectorRequirement = Type.Object({
  key: Key('A node label key.'),
  operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'], {
    description: 'How the label is matched against values.',
  }),
  values: Type.Optional(
    Type.Array(LabelValue(), { maxItems: 32, description: 'The values; one integer for Gt and Lt, none for Exists.' }),
  ),
});

const NodeSelectorTerm = Type.Object(
  {
    matchExpressions: Type.Optional(
      Type.Array(NodeSelectorRequirement, { maxItems: 16, description: "Requirements on the node's labels." }),
    ),
    matchFields: Type.Optional(
      Type.Array(NodeSelectorRequirement, { maxItems: 4, description: "Requirements on the node's fields." }),
    ),
  },
  { description: 'Nodes that meet every requirement.' },
);

const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        ...StringMap(LabelValue(), { maxProperties: 16, description: 'Labels the pods have.' }),
        'x-kubernetes-validations': [qualifiedKeys('label key')],
      }),
    ),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object({
          key: Key('A pod label key.'),
          operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
            description: 'How the label is matched against values.',
          }),
          values: Type.Optional(Type.Array(LabelValue(), { maxItems: 32, description: 'The values.' })),
        }),
        { maxItems: 16, description: "Requirements on the pods' labels." },
      ),
    ),
  },
  { description: "Pods of the run's namespace." },
);

/** Why a term may not name namespaces: it would reach other teams' pods. */
const OWN_NAMESPACE_ONLY =
  "a run's pod affinity reaches only pods of its own namespace, its team's: namespaces and namespaceSelector would reach other teams' pods";

const PodAffinityTerm = Type.Object(
  {
    labelSelector: Type.Optional(LabelSelector),
    topologyKey: Key('The node label whose value makes a topology domain, such as kubernetes.io/hostname.'),
    matchLabelKeys: Type.Optional(
      Type.Array(Key('A pod label key.'), {
        maxItems: 16,
        description: "Keys of the incoming pod's labels whose values the selected pods must share.",
      }),
    ),
    mismatchLabelKeys: Type.Optional(
      Type.Array(Key('A pod label key.'), {
        maxItems: 16,
        description: "Keys of the incoming pod's labels whose values the selected pods must not share.",
      }),
    ),
    namespaces: Type.Optional(Refused<string[]>('Refused: a run reaches only its own namespace.', 'list')),
    namespaceSelector: Type.Optional(Refused<V1LabelSelector>('Refused: a run reaches only its own namespace.')),
  },
  {
    description: "Pods of the run's namespace, by label, and the topology in which they count.",
    'x-kubernetes-validations': [
      forbidden('!has(self.namespaces)', '.namespaces', OWN_NAMESPACE_ONLY),
      forbidden('!has(self.namespaceSelector)', '.namespaceSelector', OWN_NAMESPACE_ONLY),
    ] satisfies CelRule[],
  },
);

const PodAffinity = (what: string) =>
  Type.Object(
    {
      requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(
        Type.Array(PodAffinityTerm, { maxItems: 8, description: `Terms the pod must ${what}.` }),
      ),
      preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(
        Type.Array(Type.Object({ weight: Weight, podAffinityTerm: PodAffinityTerm }), {
          maxItems: 8,
          description: `Terms the pod should ${what}, by weight.`,
        }),
      ),
    },
    { description: `Pods of the run's own namespace the pod should ${what}.` },
  );

export const Affinity = Type.Object(
  {
    nodeAffinity: Type.Optional(
      Type.Object(
        {
          requiredDuringSchedulingIgnoredDuringExecution: Type.Optional(
            Type.Object(
              {
                nodeSelectorTerms: Type.Array(NodeSelectorTerm, {
                  minItems: 1,
                  maxItems: 8,
                  description: 'The node must meet one of them.',
                }),
              },
              { description: "Nodes the pod may go to, within its pool's." },
            ),
          ),
          preferredDuringSchedulingIgnoredDuringExecution: Type.Optional(
            Type.Array(Type.Object({ weight: Weight, preference: NodeSelectorTerm }), {
              maxItems: 8,
              description: 'Nodes of the pool the pod should go to, by weight.',
            }),
          ),
        },
        { description: "Narrows the nodes of the run's pool its pods go to." },
      ),
    ),
    podAffinity: Type.Optional(PodAffinity('be near')),
    podAntiAffinity: Type.Optional(PodAffinity('stay away from')),
  },
  {
    description:
      "Where the run's pods go: node affinity within the pool, and pod (anti-)affinity to the team's own pods only.",
  },
);
export type Affinity = Static<typeof Affinity>;
