import { randomBytes } from 'node:crypto';
import type { PlatformConfig } from '../model/config/schema.js';

/** A user the API server knows by a static token, so RBAC really applies to each test identity. */
export interface Identity {
  readonly user: string;
  readonly groups: string[];
  readonly token: string;
}

/**
 * The cluster's users: an admin, the control-plane components, the real nodes' agents (`extra`),
 * every member of every team of the environment and its platform admins (a Group is represented
 * by one user in that group).
 */
export function identitiesFor(
  config: PlatformConfig,
  extra: Record<string, Omit<Identity, 'token'>> = {},
): Record<string, Identity> {
  const token = () => randomBytes(24).toString('hex');
  const identities: Record<string, Identity> = {
    admin: { user: 'plinth-admin', groups: ['system:masters'], token: token() },
    'kube-controller-manager': { user: 'system:kube-controller-manager', groups: [], token: token() },
    'kube-scheduler': { user: 'system:kube-scheduler', groups: [], token: token() },
    kwok: { user: 'kwok', groups: ['system:masters'], token: token() },
  };
  for (const [name, identity] of Object.entries(extra)) identities[name] = { ...identity, token: token() };
  for (const member of [...config.teams.flatMap((t) => t.members), ...config.platformAdmins]) {
    const user = member.kind === 'User' ? member.name : `${member.name}-member`;
    identities[user] = { user, groups: member.kind === 'Group' ? [member.name] : [], token: token() };
  }
  return identities;
}

/** The API server's --token-auth-file: token,user,uid,"groups". */
export function tokenAuthFile(identities: Record<string, Identity>): string {
  return (
    Object.values(identities)
      .map((i) => `${i.token},${i.user},${i.user},"${i.groups.join(',')}"`)
      .join('\n') + '\n'
  );
}
