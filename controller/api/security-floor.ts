import { Type } from '@sinclair/typebox';
import { forbidden, type CelRule } from './schema-helpers.js';

/**
 * CEL rules on a container's securityContext: the controller would apply the security floor
 * anyway, but a run that asks to go below it is refused at apply time, naming the field, rather
 * than started with settings it did not ask for.
 */
export const SECURITY_FLOOR_RULES: readonly CelRule[] = [
  forbidden(
    '!has(self.runAsUser) || self.runAsUser > 0',
    '.runAsUser',
    "runs never run as root: give a uid of 1 or more, or leave runAsUser out for the platform's",
  ),
  forbidden(
    '!has(self.runAsGroup) || self.runAsGroup > 0',
    '.runAsGroup',
    "runs never run in the root group: give a gid of 1 or more, or leave runAsGroup out for the platform's",
  ),
  forbidden(
    '!has(self.runAsNonRoot) || self.runAsNonRoot',
    '.runAsNonRoot',
    'runs never run as root: runAsNonRoot can only be true',
  ),
  forbidden(
    '!has(self.privileged) || !self.privileged',
    '.privileged',
    'runs are never privileged: privileged can only be false',
  ),
  forbidden(
    '!has(self.allowPrivilegeEscalation) || !self.allowPrivilegeEscalation',
    '.allowPrivilegeEscalation',
    'runs cannot gain privileges: allowPrivilegeEscalation can only be false',
  ),
  forbidden(
    '!has(self.capabilities) || !has(self.capabilities.add) || size(self.capabilities.add) == 0',
    '.capabilities.add',
    'runs cannot add capabilities: the platform drops them all',
  ),
  forbidden(
    "!has(self.seccompProfile) || self.seccompProfile.type == 'RuntimeDefault'",
    '.seccompProfile.type',
    'runs use the RuntimeDefault seccomp profile',
  ),
  forbidden("!has(self.procMount) || self.procMount == 'Default'", '.procMount', 'runs use the Default proc mount'),
];

/**
 * What a run may say of its container's security: every field the platform honors or already
 * sets. Closed, so that nothing the controller would silently drop is accepted, and carrying the
 * floor's rules wherever a container is (the main one and every init container).
 */
export const SecurityContext = Type.Object(
  {
    runAsUser: Type.Optional(Type.Integer()),
    runAsGroup: Type.Optional(Type.Integer()),
    runAsNonRoot: Type.Optional(Type.Boolean()),
    privileged: Type.Optional(Type.Boolean()),
    allowPrivilegeEscalation: Type.Optional(Type.Boolean()),
    readOnlyRootFilesystem: Type.Optional(Type.Boolean()),
    capabilities: Type.Optional(
      Type.Object({
        add: Type.Optional(Type.Array(Type.String(), { maxItems: 64 })),
        drop: Type.Optional(Type.Array(Type.String(), { maxItems: 64 })),
      }),
    ),
    seccompProfile: Type.Optional(Type.Object({ type: Type.String(), localhostProfile: Type.Optional(Type.String()) })),
    procMount: Type.Optional(Type.String()),
  },
  { 'x-kubernetes-validations': SECURITY_FLOOR_RULES },
);
