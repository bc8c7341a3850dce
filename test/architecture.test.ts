// The design's import boundaries (DESIGN.md "Import rules"), enforced by ESLint and run as part
// of `npm test`, so a workflow that imports Node code or an API route that reaches into an
// activity fails CI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import t from 'tap';

const run = promisify(execFile);
const eslint = new ESLint({ cwd: process.cwd() });

t.test('the whole tree passes lint (import boundaries, no floating promises)', async (t) => {
  const results = await eslint.lintFiles(['.']);
  const problems = results.flatMap((r) =>
    r.messages.map((m) => `${r.filePath.replace(process.cwd() + '/', '')}:${m.line} ${m.ruleId ?? ''} ${m.message}`),
  );
  t.same(problems, [], 'no lint problems');
});

t.test('the boundary rules catch what they promise to', async (t) => {
  const cases: [file: string, source: string, expected: RegExp][] = [
    ['workflows/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /no Node builtins/],
    [
      'workflows/probe.ts',
      "import { createActivities } from '../activities/index.ts';\nexport const x = createActivities;\n",
      /activity \*types\* only/,
    ],
    ['workflows/probe.ts', "import { verifications } from '../db/schema/index.ts';\nexport const x = verifications;\n", /only workflows\//],
    ['providers/probe.ts', "import { verifications } from '../db/schema/index.ts';\nexport const x = verifications;\n", /pure adapters/],
    [
      'db/probe.ts',
      "import { createProviderRegistry } from '../providers/index.ts';\nexport const x = createProviderRegistry;\n",
      /imports nothing of ours/,
    ],
    // Contracts shared with the workflows live in domain/: only the worker and the Temporal client side reach into workflows/.
    ['activities/probe.ts', "import type { Effect } from '../workflows/state.ts';\nexport type X = Effect;\n", /nothing from workflows\//],
    [
      'activities/probe.ts',
      "import { searchAttributes } from '../workflows/messages.ts';\nexport const x = searchAttributes;\n",
      /nothing from workflows\//,
    ],
    [
      'db/probe.ts',
      "import type { VerificationView } from '../workflows/messages.ts';\nexport type X = VerificationView;\n",
      /nothing from workflows\//,
    ],
    ['providers/probe.ts', "import type { Effect } from '../workflows/state.ts';\nexport type X = Effect;\n", /nothing from workflows\//],
    ['api/probe.ts', "import type { Effect } from '../workflows/state.ts';\nexport type X = Effect;\n", /workflows\/messages\.ts only/],
    [
      'api/probe.ts',
      "import { toRecordedEffects } from '../workflows/history.ts';\nexport const x = toRecordedEffects;\n",
      /workflows\/messages\.ts only/,
    ],
    [
      'sandbox/probe.ts',
      "import { PROVIDER_NAMES } from '../domain/verification.ts';\nexport const x = PROVIDER_NAMES;\n",
      /shares no code/,
    ],
    [
      'api/probe.ts',
      "import { createActivities } from '../activities/index.ts';\nexport const x = createActivities;\n",
      /never calls activity/,
    ],
    // typescript-eslint's recommended rules apply to product code too.
    [
      'api/probe.ts',
      'const unused = 1;\nexport const x: any = unused;\nconst dead = 2;\n',
      /'dead' is assigned a value but never used[\s\S]*Unexpected any|Unexpected any[\s\S]*'dead' is assigned/,
    ],
  ];
  for (const [file, source, expected] of cases) {
    const [result] = await eslint.lintText(source, { filePath: file });
    t.match(result?.messages.map((m) => m.message).join('\n'), expected, `${file}: ${expected}`);
  }
  const [typeOnly] = await eslint.lintText(
    "import type { createActivities } from '../activities/index.ts';\nexport type X = ReturnType<typeof createActivities>;\n",
    { filePath: 'workflows/probe.ts' },
  );
  t.same(
    typeOnly?.messages.filter((m) => m.ruleId?.includes('restricted')),
    [],
    'type-only activity imports are allowed in workflows',
  );
  const allowed: [file: string, source: string, why: string][] = [
    [
      'api/probe.ts',
      "import { cancelUpdate } from '../workflows/messages.ts';\nexport const x = cancelUpdate;\n",
      'the API sends the messages',
    ],
    [
      'db/probe.ts',
      "import { PROVIDER_NAMES } from '../domain/verification.ts';\nexport const x = PROVIDER_NAMES;\n",
      'db/ uses domain/ contracts',
    ],
    [
      'activities/probe.ts',
      "import { FailureType } from '../domain/failures.ts';\nexport const x = FailureType;\n",
      'activities use domain/ contracts',
    ],
  ];
  for (const [file, source, why] of allowed) {
    const [result] = await eslint.lintText(source, { filePath: file });
    t.same(
      result?.messages.filter((m) => m.ruleId?.includes('restricted')),
      [],
      `${file}: ${why}`,
    );
  }
});

// One formatter, checked like lint, so a branch that skips `npm run format` fails CI instead of
// landing a whitespace diff in someone else's next commit.
t.test('the tree is formatted (npm run format)', async (t) => {
  const { stdout } = await run(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--list-different', '.']).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
  );
  t.same(stdout.split('\n').filter(Boolean), [], 'prettier --list-different lists no file');
});
