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
    runAsUser: Type.Optional(Type.Integer({ description: "A uid of 1 or more; the platform's when left out." })),
    runAsGroup: Type.Optional(Type.Integer({ description: "A gid of 1 or more; the platform's when left out." })),
    runAsNonRoot: Type.Optional(Type.Boolean({ description: 'Only true.' })),
    privileged: Type.Optional(Type.Boolean({ description: 'Only false.' })),
    allowPrivilegeEscalation: Type.Optional(Type.Boolean({ description: 'Only false.' })),
    readOnlyRootFilesystem: Type.Optional(Type.Boolean({ description: 'May be set to true.' })),
    capabilities: Type.Optional(
      Type.Object(
        {
          add: Type.Optional(Type.Array(Type.String(), { maxItems: 64, description: 'Only empty.' })),
          drop: Type.Optional(Type.Array(Type.String(), { maxItems: 64, description: 'Every capability is dropped.' })),
        },
        { description: 'The platform drops every capability; none may be added.' },
      ),
    ),
    seccompProfile: Type.Optional(
      Type.Object(
        {
          type: Type.String({ description: 'Only RuntimeDefault.' }),
          localhostProfile: Type.Optional(Type.String({ description: 'Unused: only RuntimeDefault is allowed.' })),
        },
        { description: 'Only the RuntimeDefault profile.' },
      ),
    ),
    procMount: Type.Optional(Type.String({ description: 'Only Default.' })),
  },
  {
    'x-kubernetes-validations': SECURITY_FLOOR_RULES,
    description:
      "May only tighten the platform's security floor: a non-root uid or gid of its own, a read-only root filesystem.",
  },
);
