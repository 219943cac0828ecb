import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'constructs/imports/', '.plinth/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Constructs are instantiated for their side effect of joining the construct tree.
      'no-new': 'off',
      // A variable read by closures before its single assignment cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // model/ holds the facts every output agrees on: constructs, controller, policies and stacks
    // import it, and it imports none of them.
    files: ['model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^(\.\./)+(constructs|controller|policies|stacks|local-cluster|test)/`,
              message: 'model/ imports nothing of the folders built on it: move the fact into model/ instead.',
            },
          ],
        },
      ],
    },
  },
  {
    // The controller runtime knows no domain, as controller-runtime knows no Kind: it may not
    // import the Run API, the Run reconciler, the platform model or the constructs.
    files: ['controller/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`^\.\./(?!runtime/)|^\.\./\.\./`,
              message: 'controller/runtime/ knows nothing of Runs: import only from controller/runtime/ and packages.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read known fixtures (a missing one fails the test anyway) and bend them out of shape.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript entry points run on Node.
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
