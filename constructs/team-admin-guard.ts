import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { V1ValidatingAdmissionPolicySpec, V1ValidatingAdmissionPolicyBindingSpec } from '@kubernetes/client-node';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels, PLINTH_LABELS } from '../model/labels.js';
import { TEAM_ADMIN_GUARDS } from '../model/names.js';

/** A RoleBinding subject that a team admin may not bind, and whom binding it would let in. */
export interface RefusedSubject {
  readonly kind: 'User' | 'Group';
  readonly name: string;
  readonly who: string;
}

/** Subjects that stand for a crowd rather than a member: binding one opens the namespace to it. */
export const OPEN_SUBJECTS: readonly RefusedSubject[] = [
  { kind: 'User', name: 'system:anonymous', who: 'every request without credentials' },
  { kind: 'Group', name: 'system:unauthenticated', who: 'every request without credentials' },
  { kind: 'Group', name: 'system:authenticated', who: 'every user and ServiceAccount of the cluster' },
  { kind: 'Group', name: 'system:serviceaccounts', who: 'every ServiceAccount of every namespace' },
];

/** The group Kubernetes puts every ServiceAccount of a namespace in: this prefix and the namespace. */
const NAMESPACE_ACCOUNTS = 'system:serviceaccounts:';

/**
 * The group of another namespace's ServiceAccounts is refused; the team namespace's own is allowed.
 * The accounts of another namespace belong to another team or to the system, and their tokens are
 * in pods the team does not control. The team namespace's own accounts are made by platform
 * engineers only (team admins have no rule on serviceaccounts) and could each be bound by name
 * anyway, so refusing their group would close nothing.
 */
export const OTHER_NAMESPACE_ACCOUNTS: RefusedSubject = {
  kind: 'Group',
  name: `${NAMESPACE_ACCOUNTS}<namespace>`,
  who: "every ServiceAccount of another namespace, another team's or the system's",
};

/**
 * The Secret type kube-controller-manager's token controller fills in with a token of the named
 * ServiceAccount that never expires. Short-lived tokens come from the TokenRequest API
 * (serviceaccounts/token), which the team roles do not grant: a team admin cannot ask for one.
 */
export const LEGACY_TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';

const cel = (text: string) => JSON.stringify(text);
const celMap = (entries: readonly (readonly [string, string])[]) =>
  `{${entries.map(([key, value]) => `${cel(key)}: ${cel(value)}`).join(', ')}}`;

/** Keeps every subject of a RoleBinding to the team's own members and ServiceAccounts. */
function bindingSubjectsPolicy(): V1ValidatingAdmissionPolicySpec {
  const key = (s: string) => `(${s}.kind + '/' + ${s}.name)`;
  const anotherNamespacesAccounts = (s: string) =>
    `${s}.kind == 'Group' && ${s}.name.startsWith(${cel(NAMESPACE_ACCOUNTS)}) && ${s}.name != variables.ownAccounts`;
  return {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ['rbac.authorization.k8s.io'],
          apiVersions: ['*'],
          // Subjects may change after creation; a RoleBinding's roleRef may not.
          operations: ['CREATE', 'UPDATE'],
          resources: ['rolebindings'],
        },
      ],
    },
    variables: [
      { name: 'subjects', expression: 'has(object.subjects) ? object.subjects : []' },
      { name: 'ownAccounts', expression: `${cel(NAMESPACE_ACCOUNTS)} + request.namespace` },
      { name: 'open', expression: celMap(OPEN_SUBJECTS.map((s) => [`${s.kind}/${s.name}`, s.who])) },
      {
        name: 'refused',
        expression: `variables.subjects.filter(s, ${key('s')} in variables.open || (${anotherNamespacesAccounts('s')}))`,
      },
    ],
    validations: [
      {
        expression: 'variables.refused.size() == 0',
        // indexOf finds the first equal subject: a repeated subject is named at its first place.
        messageExpression:
          `variables.refused.map(s, 'subjects[' + string(variables.subjects.indexOf(s)) + '].name: ' + s.kind + ' ' + s.name + ' opens the namespace to ' + ` +
          `(${key('s')} in variables.open ? variables.open[${key('s')}] : ${cel(OTHER_NAMESPACE_ACCOUNTS.who)})).join('; ') + ` +
          `'; a team namespace binds Users, Groups and ServiceAccounts by name, and its own ' + variables.ownAccounts`,
        message: `a team namespace binds Users, Groups and ServiceAccounts by name, never ${[
          ...OPEN_SUBJECTS.map((s) => s.name),
          OTHER_NAMESPACE_ACCOUNTS.name,
        ].join(', ')}`,
        reason: 'Forbidden',
      },
    ],
  };
}

/** Keeps team admins from minting a ServiceAccount token that never expires. */
function accountTokensPolicy(): V1ValidatingAdmissionPolicySpec {
  return {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: [''],
          apiVersions: ['*'],
          // A Secret's type cannot change once created. Updates stay open, so that
          // kube-controller-manager can still mark and remove the legacy tokens it finds unused.
          operations: ['CREATE'],
          resources: ['secrets'],
        },
      ],
    },
    validations: [
      {
        expression: `!has(object.type) || object.type != ${cel(LEGACY_TOKEN_SECRET_TYPE)}`,
        message: `type: ${LEGACY_TOKEN_SECRET_TYPE} is a ServiceAccount token that never expires; a team's Secrets may be of any other type, such as Opaque or kubernetes.io/tls`,
        reason: 'Forbidden',
      },
    ],
  };
}

export interface TeamAdminGuardProps {
  readonly config: PlatformConfig;
}

/**
 * Team admins manage RoleBindings and Secrets in their namespace (constructs/rbac.ts). These
 * policies keep them from opening it beyond the team: no RoleBinding to anonymous users, to every
 * authenticated user or to every ServiceAccount, no non-expiring token Secret. They bind to every
 * namespace with the team label, which only platform engineers can set. Platform engineers are not
 * exempt: nothing the platform deploys needs what they refuse, and a request that the policy cannot
 * evaluate is refused too (failurePolicy Fail).
 */
export class TeamAdminGuard extends Construct {
  constructor(scope: Construct, id: string, props: TeamAdminGuardProps) {
    super(scope, id);
    const labels = componentLabels(props.config.name, 'rbac');
    const policies: Record<keyof typeof TEAM_ADMIN_GUARDS, V1ValidatingAdmissionPolicySpec> = {
      bindingSubjects: bindingSubjectsPolicy(),
      accountTokens: accountTokensPolicy(),
    };
    for (const [guard, spec] of Object.entries(policies)) {
      const name = TEAM_ADMIN_GUARDS[guard as keyof typeof TEAM_ADMIN_GUARDS];
      // cdk8s-plus-28's k8s imports know ValidatingAdmissionPolicy only as v1alpha1 and v1beta1;
      // v1 (GA in Kubernetes 1.30) is written as a plain object, typed by the client's models.
      new ApiObject(this, `${guard}-policy`, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name, labels },
        spec,
      });
      const binding: V1ValidatingAdmissionPolicyBindingSpec = {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchExpressions: [{ key: PLINTH_LABELS.team, operator: 'Exists' }] } },
      };
      new ApiObject(this, `${guard}-binding`, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name, labels },
        spec: binding,
      });
    }
  }
}
