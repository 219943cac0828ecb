import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
  type RbacV1Subject,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  LEGACY_TOKEN_SECRET_TYPE,
  OPEN_SUBJECTS,
  OTHER_NAMESPACE_ACCOUNTS,
} from '../../constructs/team-admin-guard.js';
import { TEAM_ROLE_CLUSTER_ROLES } from '../../constructs/rbac.js';
import { apiMessage } from '../../local-cluster/server-side-apply.js';
import { RUN_SERVICE_ACCOUNT, TEAM_ADMIN_GUARDS } from '../../model/names.js';
import { can } from '../support/access.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';

const NS = 'plinth-vision';
const OWN_ACCOUNTS = `system:serviceaccounts:${NS}`;
/** vision's admin: who the guard is against. */
const lead = () => kubeConfigAs('vision-lead');
const admin = () => kubeConfigAs('admin');
const MEMBER: RbacV1Subject = { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'vision-guest' };
const subject = (kind: 'User' | 'Group', name: string): RbacV1Subject => ({
  apiGroup: 'rbac.authorization.k8s.io',
  kind,
  name,
});
/** system:authenticated: every user and ServiceAccount of the cluster. */
const OPEN = subject('Group', 'system:authenticated');
const OPEN_WHO = OPEN_SUBJECTS.find((s) => s.name === OPEN.name)!.who;
/** What kube-controller-manager would fill in with a token of the namespace's default account. */
const TOKEN_SECRET: V1Secret = {
  metadata: { name: 'forever', annotations: { 'kubernetes.io/service-account.name': 'default' } },
  type: LEGACY_TOKEN_SECRET_TYPE,
};
const created: { bindings: string[]; secrets: string[] } = { bindings: [], secrets: [] };

const binding = (name: string, subjects: RbacV1Subject[]) => ({
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: TEAM_ROLE_CLUSTER_ROLES.viewer },
  subjects,
});

/** What the API server answers a RoleBinding of the team's viewer role to `subjects`: 'created' or its message. */
async function bind(kc: KubeConfig, name: string, subjects: RbacV1Subject[]): Promise<string> {
  try {
    await kc
      .makeApiClient(RbacAuthorizationV1Api)
      .createNamespacedRoleBinding({ namespace: NS, body: binding(name, subjects) });
    created.bindings.push(name);
    return 'created';
  } catch (error) {
    return apiMessage(error);
  }
}

async function createSecret(kc: KubeConfig, body: V1Secret): Promise<string> {
  try {
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: NS, body });
    created.secrets.push(body.metadata?.name ?? '');
    return 'created';
  } catch (error) {
    return apiMessage(error);
  }
}

const refusal = (index: number, s: { kind: string; name: string }, who: string) =>
  `subjects[${index}].name: ${s.kind} ${s.name} opens the namespace to ${who}`;

describe('a team admin against the guards on their namespace', () => {
  beforeAll(async () => {
    // A policy takes effect once the API server has compiled it, a moment after it is created:
    // retry what each guard refuses, as a dry run, until it is refused by that guard.
    const refusedBy = (guard: string, attempt: () => Promise<unknown>) =>
      eventually(
        `${guard} to take effect`,
        () =>
          attempt().then(
            () => undefined,
            (error: unknown) => (apiMessage(error).includes(`'${guard}'`) ? true : undefined),
          ),
        60_000,
      );
    await refusedBy(TEAM_ADMIN_GUARDS.bindingSubjects, () =>
      lead()
        .makeApiClient(RbacAuthorizationV1Api)
        .createNamespacedRoleBinding({ namespace: NS, dryRun: 'All', body: binding('probe', [OPEN]) }),
    );
    await refusedBy(TEAM_ADMIN_GUARDS.accountTokens, () =>
      lead().makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: NS, dryRun: 'All', body: TOKEN_SECRET }),
    );
  });

  afterAll(async () => {
    const rbac = admin().makeApiClient(RbacAuthorizationV1Api);
    const core = admin().makeApiClient(CoreV1Api);
    for (const name of created.bindings) await rbac.deleteNamespacedRoleBinding({ name, namespace: NS });
    for (const name of created.secrets) await core.deleteNamespacedSecret({ name, namespace: NS });
  });

  it('finds both guards type-checked against the objects they check, with no warning', async () => {
    const api = admin().makeApiClient(AdmissionregistrationV1Api);
    for (const name of Object.values(TEAM_ADMIN_GUARDS)) {
      const policy = await eventually(`${name} to be type-checked`, async () => {
        const p = await api.readValidatingAdmissionPolicy({ name });
        return p.status?.observedGeneration === p.metadata?.generation ? p : undefined;
      });
      expect(policy.status?.typeChecking?.expressionWarnings ?? [], name).toEqual([]);
    }
  });

  it.each([...OPEN_SUBJECTS, { ...OTHER_NAMESPACE_ACCOUNTS, name: 'system:serviceaccounts:plinth-nlp' }])(
    'refuses a RoleBinding to $kind $name, naming the subject and what the team may bind',
    async (open) => {
      const message = await bind(lead(), 'open', [MEMBER, subject(open.kind, open.name)]);
      expect(message).toContain(`ValidatingAdmissionPolicy '${TEAM_ADMIN_GUARDS.bindingSubjects}'`);
      expect(message).toContain(refusal(1, open, open.who));
      expect(message).toContain(
        `a team namespace binds Users, Groups and ServiceAccounts by name, and its own ${OWN_ACCOUNTS}`,
      );
    },
  );

  it('names every open subject of one RoleBinding', async () => {
    const anonymous = OPEN_SUBJECTS.find((s) => s.kind === 'User')!;
    const message = await bind(lead(), 'open', [subject(anonymous.kind, anonymous.name), MEMBER, OPEN]);
    expect(message).toContain(`${refusal(0, anonymous, anonymous.who)}; ${refusal(2, OPEN, OPEN_WHO)};`);
  });

  it('refuses adding an open subject to an existing RoleBinding', async () => {
    expect(await bind(lead(), 'guests', [MEMBER])).toBe('created');
    const patch = lead()
      .makeApiClient(RbacAuthorizationV1Api)
      .patchNamespacedRoleBinding(
        { name: 'guests', namespace: NS, body: { subjects: [MEMBER, OPEN] } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const message = await patch.then(() => 'patched', apiMessage);
    expect(message).toContain(refusal(1, OPEN, OPEN_WHO));
  });

  it("binds the team's members, its ServiceAccounts by name and its own namespace's ServiceAccounts", async () => {
    const run: RbacV1Subject = { kind: 'ServiceAccount', name: RUN_SERVICE_ACCOUNT, namespace: NS };
    expect(await bind(lead(), 'members', [MEMBER, subject('Group', 'vision-reviewers'), run])).toBe('created');
    expect(await bind(lead(), 'own-accounts', [subject('Group', OWN_ACCOUNTS)])).toBe('created');
  });

  it('refuses a non-expiring ServiceAccount token Secret, naming its type, and keeps other Secrets', async () => {
    const token = await createSecret(lead(), TOKEN_SECRET);
    expect(token).toContain(`ValidatingAdmissionPolicy '${TEAM_ADMIN_GUARDS.accountTokens}'`);
    expect(token).toContain(`type: ${LEGACY_TOKEN_SECRET_TYPE} is a ServiceAccount token that never expires`);
    expect(await createSecret(lead(), { metadata: { name: 'hf' }, stringData: { HF_TOKEN: 'x' } })).toBe('created');
  });

  it('cannot ask for a short-lived token either: the team roles grant no serviceaccounts/token', async () => {
    expect(await can(lead(), 'create', 'serviceaccounts', { namespace: NS, subresource: 'token' })).toBe(false);
    const status = await lead()
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccountToken({ name: 'default', namespace: NS, body: { spec: { audiences: [] } } })
      .then(
        () => 201,
        (e: unknown) => (e instanceof ApiException ? e.code : 0),
      );
    expect(status).toBe(403);
  });

  it('holds platform engineers to the same guard in team namespaces, and no other namespace', async () => {
    expect(await bind(admin(), 'open', [OPEN])).toContain(refusal(0, OPEN, OPEN_WHO));
    const elsewhere = await admin()
      .makeApiClient(RbacAuthorizationV1Api)
      .createNamespacedRoleBinding({ namespace: 'default', dryRun: 'All', body: binding('open', [OPEN]) });
    expect(elsewhere.metadata?.name).toBe('open');
  });
});
