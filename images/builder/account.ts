/**
 * The account of a Debian image's user, so that what looks the running uid up (git, Python's
 * getpass) finds it. Its home is /tmp, which every pod of the platform mounts writable.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDefinition } from '../definition.js';

export function addAccount(root: string, user: ImageDefinition['user']): void {
  if (!user.account) return;
  const taken = (file: string, id: number) =>
    readFileSync(join(root, 'etc', file), 'utf8')
      .split('\n')
      .some((line) => line.split(':')[2] === String(id) || line.split(':')[0] === user.account);
  if (taken('passwd', user.uid))
    throw new Error(`uid ${user.uid} or account ${user.account} already exists in the image`);
  appendFileSync(join(root, 'etc', 'passwd'), `${user.account}:x:${user.uid}:${user.gid}::/tmp:/usr/sbin/nologin\n`);
  if (!taken('group', user.gid)) appendFileSync(join(root, 'etc', 'group'), `${user.account}:x:${user.gid}:\n`);
}
