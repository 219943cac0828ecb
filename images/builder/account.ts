/**
 * The account of a Debian image's user, so that what looks the running uid up (git, Python's
 * getpass, PostgreSQL's initdb) finds it. A new account's home is /tmp, which every pod of the
 * platform mounts writable. An account a Debian package already made (postgres) keeps its name and
 * home and is moved to the image's uid and gid, with the files it owned: the operator that runs the
 * image expects a fixed uid, which a package's system account does not have.
 */
import { appendFileSync, lchownSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDefinition } from '../definition.js';

type Entry = string[];

function entries(root: string, file: string): Entry[] {
  return readFileSync(join(root, 'etc', file), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(':'));
}

function write(root: string, file: string, lines: Entry[]): void {
  writeFileSync(join(root, 'etc', file), lines.map((fields) => `${fields.join(':')}\n`).join(''));
}

/** Gives every file owned by `from` (uid and gid apart) to `to`, without following links. */
function chownTree(path: string, from: { uid: number; gid: number }, to: { uid: number; gid: number }): void {
  const stat = lstatSync(path);
  if (stat.uid === from.uid || stat.gid === from.gid) {
    lchownSync(path, stat.uid === from.uid ? to.uid : stat.uid, stat.gid === from.gid ? to.gid : stat.gid);
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), from, to);
}

export function addAccount(root: string, user: ImageDefinition['user']): void {
  const account = user.account;
  if (!account) return;
  const passwd = entries(root, 'passwd');
  const group = entries(root, 'group');
  const existing = passwd.find((fields) => fields[0] === account);
  const uidOwner = passwd.find((fields) => fields[2] === String(user.uid));
  if (uidOwner && uidOwner[0] !== account) {
    throw new Error(`uid ${user.uid} already belongs to account ${uidOwner[0]} in the image`);
  }
  if (!existing) {
    appendFileSync(join(root, 'etc', 'passwd'), `${account}:x:${user.uid}:${user.gid}::/tmp:/usr/sbin/nologin\n`);
    if (!group.some((fields) => fields[2] === String(user.gid))) {
      appendFileSync(join(root, 'etc', 'group'), `${account}:x:${user.gid}:\n`);
    }
    return;
  }
  const from = { uid: Number(existing[2]), gid: Number(existing[3]) };
  const gidOwner = group.find((fields) => fields[2] === String(user.gid));
  if (gidOwner && Number(gidOwner[2]) !== from.gid) {
    throw new Error(`gid ${user.gid} already belongs to group ${gidOwner[0]} in the image`);
  }
  existing[2] = String(user.uid);
  existing[3] = String(user.gid);
  write(root, 'passwd', passwd);
  for (const fields of group) if (fields[2] === String(from.gid)) fields[2] = String(user.gid);
  write(root, 'group', group);
  chownTree(root, from, user);
}
