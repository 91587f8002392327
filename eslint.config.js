// ESLint: typescript-eslint's type-checked recommended rules over everything that is type-checked
// (src, test, bench). Formatting is prettier's (`npm run format:check`), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // bench/'s .mjs scripts, like bin/ and scripts/, are plain JavaScript: type-checked by
  // tsconfig.scripts.json, not linted.
  {
    ignores: [
      'dist/**',
      'packages/*/dist/**',
      '.test-build/**',
      'node_modules/**',
      'bin/**',
      'scripts/**',
      'bench/**/*.mjs',
      'eslint.config.js',
      '.dependency-cruiser.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // As TypeScript's own noUnused* checks read them: `const { dropped: _x, ...rest } = o` leaves a
      // property out, and a leading _ names a parameter the signature needs but the body does not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // node:test's describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
    },
  },
);
