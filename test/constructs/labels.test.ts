import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, objectsOf } from '../support/platform.js';

describe.each(ENVIRONMENTS)('labels in %s', (env) => {
  it('puts the app.kubernetes.io labels and the environment on every object', () => {
    for (const o of objectsOf(env)) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/part-of': 'plinth',
        'app.kubernetes.io/managed-by': 'plinth',
        'app.kubernetes.io/name': expect.any(String),
        'app.kubernetes.io/component': expect.any(String),
        'plinth.dev/environment': env,
      });
    }
  });
});
