// ESLint for the project, with typescript-eslint's strict type-checked rules. It lives in its own small package
// because typescript-eslint reads types through TypeScript's JavaScript API, which the native compiler (typescript 7,
// used to build) no longer ships: this package pins the last TypeScript that has it, for linting only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'tools/**', 'sentinel/**', 'infra/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: new URL('../..', import.meta.url).pathname },
    },
    rules: {
      eqeqeq: 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // `(done) => resolve()` and `(line) => void write(line)` are callbacks whose result nobody reads: the rule still
      // catches a void call's result used as a value anywhere else.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidOperator: true },
      ],
      // Counts, sizes and statuses are numbers, and read well in messages as they are.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
);
