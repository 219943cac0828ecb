import { describe, expect, it } from 'vitest';
import { CHILD_PARENT_MAX, childRunName } from '../../model/child-names.js';
import { RUN_NAME_MAX } from '../../model/names.js';

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const parent = { name: 'resnet-sweep', uid: '6f1c2c1e-0000-4000-8000-000000000001' };

describe('childRunName', () => {
  it('reads as parent, key and a hash, and is the same on every call', () => {
    const name = childRunName(parent, '7');
    expect(name).toMatch(/^resnet-sweep-7-[a-z0-9]{5}$/);
    expect(childRunName(parent, '7')).toBe(name);
  });

  it('differs for keys that cut alike, and for a parent re-created under the same name', () => {
    const a = childRunName(parent, 'preprocess-images-a');
    const b = childRunName(parent, 'preprocess-images-b');
    expect(a.slice(0, -6)).toBe(b.slice(0, -6));
    expect(a).not.toBe(b);
    expect(childRunName({ ...parent, uid: 'another-uid' }, '7')).not.toBe(childRunName(parent, '7'));
  });

  it('fits a leaf run name, as a DNS-1035 label, whatever the parent name and key', () => {
    const long = { name: `a${'b'.repeat(RUN_NAME_MAX - 1)}`, uid: 'u' };
    for (const key of ['2026-12-06T22:00:00Z', 'Train_Model.v2', '-', 'x'.repeat(100), '']) {
      const name = childRunName(long, key);
      expect(name.length, name).toBeLessThanOrEqual(RUN_NAME_MAX);
      expect(name, key).toMatch(DNS_1035);
    }
    expect(childRunName(long, 'k').startsWith('a'.padEnd(CHILD_PARENT_MAX, 'b'))).toBe(true);
  });
});
