import { loadDeveloperEnvFile } from './env-file.ts';

/**
 * Runs an operator CLI's `main(args)` with the developer's .env loaded (scripts/lib/env-file.ts):
 * its number is the exit code; a thrown error prints its message and exits 1.
 */
export function runCli(main: (args: string[]) => Promise<number>): void {
  Promise.resolve()
    .then(() => {
      loadDeveloperEnvFile();
      return main(process.argv.slice(2));
    })
    .then(
      (code) => process.exit(code),
      (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
      },
    );
}
