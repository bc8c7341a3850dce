// The ceiling for HTTP intake on this machine: fastify answering a no-op POST, in its own
// process like the API, with the same body size as a webhook.
import Fastify from 'fastify';
import { announce } from './child-stats.ts';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/noop', async () => ({ received: true, duplicate: false }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
announce({ port: Number(process.env.PORT) });
