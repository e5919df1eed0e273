// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // The layers of docs/architecture.md: the source reads the shop and knows nothing of the connector's own books.
  {
    files: ['src/source/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/state/*', '**/state/**'], message: 'src/source imports nothing from src/state (shared types live in src/, e.g. src/cursor.ts)' },
          ],
        },
      ],
    },
  },
  // JavaScript checked by tsc (checkJs), whose own checks see undefined names: as typescript-eslint advises for TS.
  { files: ['**/*.mjs'], rules: { 'no-undef': 'off' } },
);
