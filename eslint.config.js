import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {globals: globals.node},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', ignoreRestSiblings: true}],
      'no-console': 'error',
    },
  },
  {
    files: ['templates/**/*.js'],
    languageOptions: {globals: globals.browser},
  },
  {
    files: ['src/ui/**', 'scripts/**', 'test/**'],
    rules: {'no-console': 'off'},
  },
)
