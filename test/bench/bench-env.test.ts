// The bench runs the API and worker with NODE_ENV=production, so it breaks silently (a process
// exits, the bench times out waiting for readiness) whenever production configuration grows a
// requirement. Pin it here, where a failure names the missing setting.
import t from 'tap';
import { benchProcessEnv } from '../../bench/process-env.ts';
import { parseEnv } from '../../config/env.ts';

t.test('the environment the bench gives the API and worker passes production validation', async (t) => {
  const env = benchProcessEnv({
    apiPort: 3999,
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/vf_bench',
    temporalAddress: '127.0.0.1:7233',
    sandboxUrl: 'http://127.0.0.1:4000',
    operatorToken: 'vf_op_bench_0123456789abcdef',
  });
  t.equal(env.NODE_ENV, 'production');
  t.doesNotThrow(() => parseEnv(env));
});
