// The developer's settings file: .env in the project root (a copy of .env.example, git-ignored),
// read by `npm run dev` and the CLIs beside it, so a port, key or secret set there is the one
// they all use. A variable already in the environment wins over the file, as with Node's
// --env-file, and one left empty (`X=`, as .env.example lists what is optional) counts as unset,
// so dev's own defaults (the sandbox, its secrets, a quiet log) still apply. VERIFLOW_ENV_FILE
// names another file; set empty, none is read (the test runner does that, so a developer's .env
// never reaches the tests' stacks). The API and worker read only their environment: dev hands
// them the merged one, production sets it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const PROJECT_ENV_FILE = fileURLToPath(new URL('../../.env', import.meta.url));

/** Loads the settings file into process.env; returns its path, or null when there is none to read. */
export function loadDeveloperEnvFile(): string | null {
  const named = process.env.VERIFLOW_ENV_FILE;
  if (named === '') return null;
  const path = named ?? PROJECT_ENV_FILE;
  if (!existsSync(path)) {
    if (named !== undefined) throw new Error(`VERIFLOW_ENV_FILE=${named}: no such file`);
    return null;
  }
  for (const [name, value] of Object.entries(parseEnv(readFileSync(path, 'utf8')))) {
    if (value !== '' && process.env[name] === undefined) process.env[name] = value;
  }
  return path;
}
