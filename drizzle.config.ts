import { defineConfig } from 'drizzle-kit';

// Generates SQL only (`npm run db:generate`); migrations are applied by db/migrate.ts, the same
// code path for dev (PGlite), tests and production (Postgres).
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  casing: 'snake_case',
});
