/**
 * Runs the builder's tools (mmdebstrap, tar, gcc, chroot). Their output goes to stderr so that
 * stdout carries only what the CLI prints; a failure names the tool and its exit.
 */
import { spawn } from 'node:child_process';

export interface CommandOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Collect stdout and return it, rather than passing it to stderr. */
  readonly capture?: boolean;
}

export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.capture ? 'pipe' : 2, 2],
    });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${command} is not installed (or not on PATH): the image builder needs it`)
          : error,
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
      else
        reject(
          new Error(
            `${command} ${args.slice(0, 3).join(' ')}... failed (${signal ?? `exit ${code}`}); see its output above`,
          ),
        );
    });
  });
}
