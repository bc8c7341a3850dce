// Lint = the design's import boundaries (DESIGN.md "Import rules") + promise hygiene.
// Boundaries are checked here so `npm test` fails when a layer reaches where it must not.
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'process',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'worker_threads',
  'zlib',
];
const builtinPatterns = [{ group: ['node:*'], message: 'Workflows are deterministic: no Node builtins.' }];
const layer = (folders, message) => folders.map((f) => ({ group: [`../${f}/*`, `../../${f}/*`, `../${f}`, `../../${f}`], message }));
// workflows/ is the workflow bundle's own code: what other layers share with it (failure types,
// history entries, timers, provider capabilities) lives in domain/.
const noWorkflows = layer(['workflows'], 'Import nothing from workflows/: shared contracts live in domain/.');

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.data/**',
      '.tap/**',
      'coverage/**',
      'db/migrations/**',
      'tmp/**',
      '.vf-scratch/**',
      'bench/results/**',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    // probe.ts: the in-memory files test/architecture.test.ts lints to prove the rules bite.
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['*/probe.ts'] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // `const { secret: _secret, ...rest } = x` drops a field on purpose; `_arg` keeps a signature.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // tap's top-level `t.test()` returns a promise tap itself awaits.
  // Tests and benches read untyped JSON bodies from responses they assert on field by field.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node builtins.' })),
            ...['@temporalio/activity', '@temporalio/worker', '@temporalio/client'].map((name) => ({
              name,
              message: 'Workflow code runs in the sandbox: only @temporalio/workflow and @temporalio/common.',
            })),
          ],
          patterns: [
            ...builtinPatterns,
            ...layer(
              ['db', 'providers', 'api', 'sandbox', 'wiring', 'config'],
              'Workflows import only workflows/, domain/ and activity types.',
            ),
            {
              group: ['../activities/*', '../activities'],
              allowTypeImports: true,
              message: 'Workflows import activity *types* only (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [...layer(['api', 'sandbox'], 'Activities use providers/ and db/, never api/.'), ...noWorkflows] },
      ],
    },
  },
  {
    files: ['providers/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [...layer(['api', 'db', 'activities', 'sandbox', 'wiring'], 'providers/ are pure adapters.'), ...noWorkflows] },
      ],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layer(['activities', 'sandbox'], 'The API never calls activity implementations.'),
            {
              // The signal, query and update definitions are the API's only business in workflows/.
              group: ['../workflows/*', '../../workflows/*', '!../workflows/messages.ts', '!../../workflows/messages.ts'],
              message: 'The API uses workflows/messages.ts only: shared contracts live in domain/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['db/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layer(
              ['api', 'activities', 'providers', 'sandbox', 'wiring', 'config'],
              'db/ imports nothing of ours but domain/ contracts.',
            ),
            ...noWorkflows,
          ],
        },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '@temporalio/*', 'node:*'],
              message: 'domain/ is pure vocabulary and contracts: nothing of ours outside domain/, no Temporal, no Node.',
            },
          ],
        },
      ],
    },
  },
  {
    // The typed client is a package of its own: its generated types and openapi-fetch, nothing of the server.
    files: ['clients/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../../*', '../../../*'], message: 'clients/ imports only its own files and openapi-fetch.' }] },
      ],
    },
  },
  {
    files: ['sandbox/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: layer(
            ['api', 'activities', 'providers', 'workflows', 'domain', 'db', 'wiring', 'config'],
            'The sandbox shares no code with the app, so a shared bug cannot hide.',
          ),
        },
      ],
    },
  },
);
