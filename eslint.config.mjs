// typescript-eslint's recommended rules over the TypeScript and JavaScript we
// write; build output, dependencies and generated results are not ours.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // A leading underscore marks a value kept on purpose: a rest-omitted
      // field, or a parameter a signature requires.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // A `let` that a callback reads before it is first assigned stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Loaded on first use, for cold start and idle memory: each handler, the
    // HTTP stack, the CloudEvents SDK and the OpenAPI generator.
    files: ['shared/runtime/functions.ts', 'shared/runtime/boot.ts', 'shared/runtime/events.ts', 'shared/runtime/contract.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // A jest reporter: plain CommonJS, loaded by jest as it is.
    files: ['test/helpers/summary-reporter.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read the functions' answers as parsed, untyped JSON.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
