import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.cache/', 'dist/', 'dist.*/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The engine core is pure: no SDKs, no environment, no I/O, and no way out of src/core.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', '@kubernetes/*', '@slack/*', '@middy/*', 'node:fs', 'node:fs/*', 'node:process'], message: 'src/core is pure: no SDK, no I/O.' },
            { group: ['../../*', '!../../core', '!../../core/**'], message: 'src/core imports only src/core (ports, adapters and engines depend on it, never the reverse).' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process'],
    },
  },
  {
    // Adapters implement ports; they never reach into an engine, the CLI or the sandbox.
    files: ['src/aws/**/*.ts', 'src/kube/**/*.ts', 'src/slack/**/*.ts', 'src/pagerduty/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../sampler/*', '../remediator/*', '../notifier/*', '../cli/*', '../sandbox/**', '../../lib/*'], message: 'An adapter imports only src/core, src/config, src/ports and other adapters.' }] },
      ],
    },
  },
  {
    // Engines depend on ports; the AWS, Slack and PagerDuty adapters are wired in by functions/ (or the CLI, tests, the demo).
    files: ['src/sampler/**/*.ts', 'src/remediator/**/*.ts', 'src/notifier/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../aws/*', '../slack/*', '../pagerduty/*', '../cli/*', '../sandbox/**', '../../lib/*'], message: 'An engine depends on src/ports, not on an AWS/Slack/PagerDuty adapter.' }] },
      ],
    },
  },
  {
    // Nothing the Lambdas or the CLI run imports the CDK app.
    files: ['src/**/*.ts', 'functions/**/*.ts'],
    ignores: ['src/core/**', 'src/aws/**', 'src/kube/**', 'src/slack/**', 'src/pagerduty/**', 'src/sampler/**', 'src/remediator/**', 'src/notifier/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../lib/*', '../../lib/*', '../../../lib/*'], message: 'src/ never imports lib/ (the CDK app); shared settings live in src/config.' }] }],
    },
  },
);
