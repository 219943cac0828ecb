import { parseArgs } from 'node:util';
import { WAIVER_RULE, checkResources, violations } from './check.js';
import { createContext } from './context.js';
import { InputError, readInputs } from './input.js';
import { formatJson, formatSarif, formatTable } from './report.js';
import { ALL_RULES } from './rules/index.js';

const USAGE = `usage: plinth check [paths... | -] [--format table|json|sarif] [--env NAME] [--production]

Checks Kubernetes manifests (YAML or JSON files, directories, or - for stdin) against the
platform's policies. Exit status: 0 clean, 1 violations, 2 unreadable input.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `plinth check`; returns the exit status. */
export async function main(argv: string[], out: (text: string) => void = (t) => console.log(t)): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'check') {
    console.error(USAGE);
    return 2;
  }
  let args;
  try {
    args = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'table' },
        env: { type: 'string' },
        production: { type: 'boolean' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const format = args.values.format;
  if (!['table', 'json', 'sarif'].includes(format)) {
    console.error(`--format must be one of table, json, sarif (got "${format}")`);
    return 2;
  }
  const paths = args.positionals.length > 0 ? args.positionals : process.stdin.isTTY ? [] : ['-'];
  if (paths.length === 0) {
    console.error(USAGE);
    return 2;
  }
  let resources;
  try {
    resources = await readInputs(paths, readStdin);
  } catch (error) {
    if (error instanceof InputError) {
      console.error(`plinth check: cannot read ${error.message}`);
      return 2;
    }
    throw error;
  }
  const context = createContext(resources, { environment: args.values.env, production: args.values.production });
  const results = checkResources(context);
  if (format === 'json') out(formatJson(results, resources.length));
  else if (format === 'sarif') out(formatSarif(results, [...ALL_RULES, WAIVER_RULE]));
  else out(formatTable(results, resources.length));
  return violations(results).length > 0 ? 1 : 0;
}
