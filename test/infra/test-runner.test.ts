// The suite's own runner: test files run on Node's type stripping with no TypeScript loader in
// front. tap's default plugin set includes @tapjs/typescript (a ts-node loader); package.json
// removes it, but tap builds its test class for the configured plugins only during the first run
// after an install, and that run (every fresh CI clone's) still spawns its files with the default
// loader: ts-node then transpiled every file again, about 5 s of CPU per stack file under coverage.
import t from 'tap';

t.test('this file runs with no TypeScript loader: Node strips the types', async (t) => {
  t.same(
    process.execArgv.filter((arg) => /typescript|ts-node|tsx/.test(arg)),
    [],
    'no loader among the test process flags',
  );
  t.equal((process.features as { typescript?: string }).typescript, 'strip', 'Node strips the types itself');
});
