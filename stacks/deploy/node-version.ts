import packageJson from '../../package.json' with { type: 'json' };

/** The lowest Node major the project runs on, from package.json's `engines.node` (`>=24`). */
export const MIN_NODE_MAJOR = Number(/^>=\s*(\d+)/.exec(packageJson.engines.node)?.[1]);

/**
 * Why the program cannot run on this Node, or undefined where it can. Pulumi's language host runs
 * whichever `node` comes first on PATH; `npm run pulumi` puts the project's own Node first.
 */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `the Plinth program runs on Node ${MIN_NODE_MAJOR} or later, and this is Node ${version}: ` +
    `run Pulumi through npm, as in "npm run pulumi -- up -s <stack>", which puts the project's Node first on PATH`
  );
}
