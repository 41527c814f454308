import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'scripts/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Platform code must be injected: the isomorphic core never imports node built-ins.
    files: [
      'shared/**/*.ts',
      'peer/*.ts',
      'peer/store/**/*.ts',
      'peer/transport/**/*.ts',
      'peer/sync/**/*.ts',
      'peer/secure/**/*.ts',
      'peer/mesh/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['node:*'],
          paths: ['fs', 'path', 'os', 'crypto', 'net', 'dgram', 'http', 'https', 'child_process'],
        },
      ],
    },
  },
);
