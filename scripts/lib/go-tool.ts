// What the finders of Go-built tools (Temporal CLI, Temporal server) share: their typed errors
// and the `install` command that builds them ahead of time.

/**
 * The error classes of one tool, undici style: a base (`<code>`), "not found anywhere and no way
 * to make it" (`<code>_NOT_FOUND`, the message lists what the user can do) and "the build ran and
 * failed" (`<code>_BUILD`).
 */
export function goToolErrors(name: string, code: string) {
  class ToolError extends Error {
    readonly code: string = code;
  }
  class NotFoundError extends ToolError {
    override readonly code = `${code}_NOT_FOUND`;
    override readonly name = `${name}NotFoundError`;
  }
  class BuildError extends ToolError {
    override readonly code = `${code}_BUILD`;
    override readonly name = `${name}BuildError`;
  }
  return { ToolError, NotFoundError, BuildError };
}

/**
 * `<script> install`: find or build the tool and print its paths, so the slow first build happens
 * at setup time. Exit code 2 for a wrong command, 1 with the message for the tool's own errors.
 */
export async function installCommand(
  command: string | undefined,
  tool: { usage: string; resolvePaths: () => Promise<string[]>; failure: abstract new (...args: never[]) => Error },
): Promise<number> {
  if (command !== 'install') {
    process.stderr.write(`${tool.usage}\n`);
    return 2;
  }
  try {
    const paths = await tool.resolvePaths();
    process.stdout.write(paths.map((path) => `${path}\n`).join(''));
    return 0;
  } catch (error) {
    if (!(error instanceof tool.failure)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}
