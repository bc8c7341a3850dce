// The simulated providers in a process of their own, so the load generator's event loop neither
// slows their answers nor is charged for their CPU. Counts the provider API requests it serves.
import { subscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import { startSandbox, type SandboxOptions } from '../sandbox/server.ts';
import { announce, serveStats } from './child-stats.ts';

const options = JSON.parse(process.env.BENCH_SANDBOX_OPTIONS ?? '{}') as SandboxOptions;
let requests = 0;
const stats = await serveStats(() => ({ requests }));
subscribe('http.server.request.start', (message) => {
  if ((message as { server: Server }).server !== stats.server) requests += 1;
});
const sandbox = await startSandbox({ ...options, port: 0 });
announce({ url: sandbox.url, statsUrl: stats.url });
