import { defineConfig } from 'drizzle-kit';

// Generates SQL only (`npm run db:generate`); migrations are applied by db/migrate.ts, the same
// code path for dev (PGlite), tests and production (Postgres). `npx drizzle-kit studio` opens
// DATABASE_URL, else the embedded database `npm run dev` serves (db/embedded-server.ts; the URL
// is spelled out here because drizzle-kit loads this file on its own, outside our modules).
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  casing: 'snake_case',
  dbCredentials: { url: process.env.DATABASE_URL || `postgres://postgres@127.0.0.1:${process.env.PGLITE_PORT || 5499}/postgres` },
});
