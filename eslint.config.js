// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/** Layers point one way (see README, Architecture): these rules keep them so. */
const noCli = { group: ['**/cli/**', '../cli', './cli'], message: 'Nothing imports the CLI.' };
const noContainerdGen = {
  group: ['**/gen/containerd/**'],
  message: 'Only src/containerd may use generated containerd messages.',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

module.exports = tseslint.config(
  { ignores: ['dist/', 'src/gen/', 'node_modules/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': 'error',
      // False positives on winston's transports, whose classes come from a separate typings module.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    // main.ts is the composition root: the one place that wires the CLI to the agent.
    ignores: ['src/cli/**', 'src/containerd/**', 'src/main.ts'],
    rules: restrict(noCli, noContainerdGen),
  },
  { files: ['src/containerd/**/*.ts'], rules: restrict(noCli) },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      ...restrict(noContainerdGen, {
        group: ['**/agent/**', '**/containerd/**'],
        message: 'The CLI talks to the agent only through the API client.',
      }),
      'no-console': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // jest's asymmetric matchers (expect.any, objectContaining) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
  },
);
