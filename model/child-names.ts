import { createHash } from 'node:crypto';
import { RUN_NAME_MAX } from './names.js';

/**
 * How composite runs (sweeps, pipelines, schedules) name the Runs they make, decided once for all
 * of them: `<parent cut>-<key cut>-<hash>`, where the key is a trial index, an operation name or a
 * slot time, and the hash is of (parent uid, key). So a child's name is the same on every
 * reconcile (a restart finds, never duplicates, it), tells a person what it is, and differs for
 * two keys that cut alike or a parent re-created under the same name. The full key goes in the
 * child's CHILD_KEY_ANNOTATION.
 *
 * A child is a leaf run, so its name must fit RUN_NAME_MAX, which keeps room for what leaf kinds
 * append: 33 + 1 + 12 + 1 + 5 = 52 characters at most.
 */
export const CHILD_KEY_MAX = 12;
export const CHILD_HASH_LENGTH = 5;
export const CHILD_PARENT_MAX = RUN_NAME_MAX - CHILD_KEY_MAX - CHILD_HASH_LENGTH - 2;

/** Lower case letters, digits and inner dashes, as a DNS-1035 label allows after its first letter. */
function labelPart(text: string, max: number): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

/** A short hash in base 36: letters and digits only. */
function shortHash(parentUid: string, key: string): string {
  const digest = createHash('sha256').update(`${parentUid}/${key}`).digest();
  return BigInt(`0x${digest.subarray(0, 8).toString('hex')}`)
    .toString(36)
    .padStart(CHILD_HASH_LENGTH, '0')
    .slice(-CHILD_HASH_LENGTH);
}

/** The name of the child a parent run makes for `key`. */
export function childRunName(parent: { name: string; uid: string }, key: string): string {
  const parts = [labelPart(parent.name, CHILD_PARENT_MAX), labelPart(key, CHILD_KEY_MAX), shortHash(parent.uid, key)];
  return parts.filter((p) => p.length > 0).join('-');
}
