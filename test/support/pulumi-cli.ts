import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, symlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePulumiToolchain } from '../../local-cluster/toolchain.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface PulumiResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** One step of `pulumi preview --json`. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
}

/**
 * The real Pulumi CLI, language host and Kubernetes provider (built from Go modules), driving this
 * repository's program with a local file backend, through `npm run pulumi` as users run it. The project directory is a view of the
 * repository (symbolic links) with its own copy of the stack file, because `pulumi stack init` and
 * `pulumi config set` write to the stack file: the committed one is never touched.
 */
export class PulumiCli {
  private readonly env: NodeJS.ProcessEnv;
  /** The project directory the CLI runs in; a policy pack placed in it resolves @pulumi/* from the repository. */
  readonly project: string;

  private constructor(
    readonly stack: string,
    workDir: string,
    kubeconfig: string,
  ) {
    const bins = Object.values(ensurePulumiToolchain()).map(dirname);
    this.project = join(workDir, 'project');
    this.env = {
      ...process.env,
      // As a user's shell has it: whatever Node the machine has first, the project's nowhere. The
      // CLI runs as users are told to run it, `npm run pulumi`, which puts the project's Node first.
      PATH: [
        ...(process.env['PATH'] ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules')),
        ...bins,
      ].join(delimiter),
      KUBECONFIG: kubeconfig,
      PULUMI_HOME: join(workDir, 'home'),
      PULUMI_BACKEND_URL: `file://${join(workDir, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'plinth-test-passphrase',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_SKIP_CONFIRMATIONS: 'true',
    };
  }

  /** A fresh backend in workDir with the stack created from the committed stack file. */
  static async create(stack: string, workDir: string, kubeconfig: string): Promise<PulumiCli> {
    await mkdir(join(workDir, 'state'), { recursive: true });
    const cli = new PulumiCli(stack, workDir, kubeconfig);
    await mkdir(cli.project, { recursive: true });
    for (const entry of await readdir(REPO)) {
      if (/^Pulumi\..+\.yaml$/.test(entry) || entry === '.plinth') continue;
      await symlink(join(REPO, entry), join(cli.project, entry));
    }
    await copyFile(join(REPO, `Pulumi.${stack}.yaml`), join(cli.project, `Pulumi.${stack}.yaml`));
    await cli.ok(['stack', 'init']);
    return cli;
  }

  /** Runs `pulumi <args>` for the stack; never throws on a non-zero exit. */
  run(args: string[], timeoutMs = 600_000): Promise<PulumiResult> {
    const started = performance.now();
    // Flags go before a `--`, after which values such as "-4" are taken literally.
    const flags = ['--stack', this.stack, '--non-interactive'];
    const end = args.indexOf('--');
    const full = end < 0 ? [...args, ...flags] : [...args.slice(0, end), ...flags, ...args.slice(end)];
    return new Promise((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', 'pulumi', '--', ...full],
        { cwd: this.project, env: this.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
        },
      );
    });
  }

  /** Runs `pulumi <args>` and throws with its output when it fails. */
  async ok(args: string[]): Promise<PulumiResult> {
    const result = await this.run(args);
    if (result.code !== 0) {
      throw new Error(`pulumi ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  }

  /** `pulumi preview --json`: the steps that are not `same`, and the change summary. */
  async preview(extra: string[] = []): Promise<{ changes: PreviewStep[]; summary: Record<string, number> }> {
    const result = await this.ok(['preview', '--json', ...extra]);
    const parsed = JSON.parse(result.stdout) as { steps?: PreviewStep[]; changeSummary?: Record<string, number> };
    return {
      changes: (parsed.steps ?? []).filter((s) => s.op !== 'same'),
      summary: parsed.changeSummary ?? {},
    };
  }

  async configSet(path: string, value: string, secret = false): Promise<void> {
    await this.ok(['config', 'set', '--path', ...(secret ? ['--secret'] : []), '--', path, value]);
  }

  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.ok(['stack', 'output', '--json'])).stdout) as Record<string, unknown>;
  }
}

/** The resource name at the end of a URN: `ResourceQuota/plinth-vision/team-quota`. */
export const urnName = (urn: string) => urn.split('::').at(-1) ?? urn;
