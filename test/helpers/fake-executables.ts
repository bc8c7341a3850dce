// Fake executables for the build-resolution tests: nothing here runs the real `go install`.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeExecutable(path: string, body: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
  await chmod(path, 0o755);
  return path;
}

/**
 * A `go` that appends its arguments to $FAKE_GO_CALLS and, after a pause (so concurrent callers
 * overlap), writes each of `outputs` into $GOBIN the way `go install` does, or fails with `exitCode`.
 */
export function fakeGo(
  path: string,
  { exitCode = 0, outputs = ['temporal'] }: { exitCode?: number; outputs?: string[] } = {},
): Promise<string> {
  return writeExecutable(
    path,
    `#!${process.execPath}
const fs = require('node:fs');
fs.appendFileSync(process.env.FAKE_GO_CALLS, process.argv.slice(2).join(' ') + '\\n');
setTimeout(() => {
  if (${exitCode}) process.exit(${exitCode});
  for (const name of ${JSON.stringify(outputs)}) fs.writeFileSync(process.env.GOBIN + '/' + name, '#!/bin/sh\\necho built\\n', { mode: 0o755 });
}, 500);
`,
  );
}
