import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeVersionProblem } from '../../stacks/deploy/node-version.js';

describe('the Node the Pulumi program runs on', () => {
  it("is package.json's engines minimum, and an older one is refused saying how to run Pulumi", () => {
    expect(MIN_NODE_MAJOR).toBe(24);
    expect(nodeVersionProblem('v24.21.0')).toBeUndefined();
    expect(nodeVersionProblem('v25.1.0')).toBeUndefined();
    expect(nodeVersionProblem('v20.20.2')).toBe(
      'the Plinth program runs on Node 24 or later, and this is Node v20.20.2: run Pulumi through npm, ' +
        'as in "npm run pulumi -- up -s <stack>", which puts the project\'s Node first on PATH',
    );
  });
});
