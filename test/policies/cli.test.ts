import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../policies/cli.js';
import { find, objectsOf } from '../support/platform.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
const good = () => structuredClone(find(objectsOf('local'), 'Deployment', 'controller', 'plinth')) as any;
const pdb = () => find(objectsOf('local'), 'PodDisruptionBudget', 'controller', 'plinth');

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['check', ...args], (text) => (out += text));
  return { code, out };
}

describe('plinth check', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plinth-check-'));
    const bad = good();
    bad.spec.template.spec.containers[0].image = 'ghcr.io/plinth-dev/controller:latest';
    await writeFile(join(dir, 'good.yaml'), [good(), pdb()].map((o) => stringify(o)).join('---\n'));
    await writeFile(join(dir, 'bad.yaml'), [bad, pdb()].map((o) => stringify(o)).join('---\n'));
    await writeFile(join(dir, 'list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [good(), pdb()] }));
    await writeFile(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('exits 0 on clean input, with a summary', async () => {
    const { code, out } = await run(join(dir, 'good.yaml'));
    expect(code).toBe(0);
    expect(out).toContain('2 objects checked: 0 violations, 0 warnings, 0 waived');
  });

  it('exits 1 on violations, grouped by object with the field, the file and the line', async () => {
    const { code, out } = await run(join(dir, 'bad.yaml'));
    expect(code).toBe(1);
    expect(out).toContain(`Deployment plinth/controller  (${join(dir, 'bad.yaml')}:1)`);
    expect(out).toMatch(
      /ERROR\s+image-pinned\s+spec\.template\.spec\.containers\[0\]\.image: image "ghcr\.io\/plinth-dev\/controller:latest" uses latest/,
    );
  });

  it('exits 2 on unreadable input, naming the file and the line', async () => {
    const { code } = await run(join(dir, 'broken.yaml'));
    expect(code).toBe(2);
    const spawned = spawnSync(process.execPath, [join(ROOT, 'bin', 'plinth.mjs'), 'check', join(dir, 'broken.yaml')], {
      encoding: 'utf8',
    });
    expect(spawned.status).toBe(2);
    expect(spawned.stderr).toMatch(
      new RegExp(`cannot read ${join(dir, 'broken.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5: `),
    );
  });

  it('reads directories, JSON lists and standard input', async () => {
    expect((await run(dir.concat('/list.json'))).code).toBe(0);
    const all = await run('--format', 'json', join(dir, 'good.yaml'), join(dir, 'list.json'));
    expect(JSON.parse(all.out).checked).toBe(4);
    const stdin = spawnSync(process.execPath, [join(ROOT, 'bin', 'plinth.mjs'), 'check', '-'], {
      input: stringify(good()),
      encoding: 'utf8',
    });
    expect(stdin.status).toBe(1); // alone, the replicated Deployment lacks its PodDisruptionBudget
    expect(stdin.stdout).toContain('replicated-workload-pdb-and-probes');
  });

  it('writes JSON that names the rule, the object and the field', async () => {
    const report = JSON.parse((await run('--format', 'json', join(dir, 'bad.yaml'))).out);
    expect(report.results).toContainEqual(
      expect.objectContaining({
        rule: 'image-pinned',
        kind: 'Deployment',
        namespace: 'plinth',
        name: 'controller',
        field: 'spec.template.spec.containers[0].image',
        line: 1,
      }),
    );
  });

  it('writes SARIF 2.1.0 that CI annotates on the file and line', async () => {
    const sarif = JSON.parse((await run('--format', 'sarif', join(dir, 'bad.yaml'))).out);
    expect(sarif.version).toBe('2.1.0');
    const result = sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'image-pinned');
    expect(result.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: join(dir, 'bad.yaml') },
      region: { startLine: 1 },
    });
    expect(sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toContain('waiver-has-reason');
  });

  it('skips empty documents and comments', async () => {
    await writeFile(
      join(dir, 'sparse.yaml'),
      `# leading comment\n---\n${stringify(good())}---\n# nothing here\n---\n${stringify(pdb())}---\n`,
    );
    const { code, out } = await run(join(dir, 'sparse.yaml'));
    expect(code).toBe(0);
    expect(out).toContain('2 objects checked');
  });

  it('rejects an unknown format', async () => {
    expect((await run('--format', 'xml', join(dir, 'good.yaml'))).code).toBe(2);
  });
});
