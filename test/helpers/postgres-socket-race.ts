// postgres.js 3.4.9 can run a scheduled write after its socket is gone (connection.js
// `nextWrite`: `socket.write` on null) when connections drop mid-flight — an uncaught TypeError
// inside the library, not in our code. Tests that cut the database on purpose contain exactly
// that error (counted, so the test can report it) instead of letting it fail the file at random.
// Production sees it as a process crash and restart; nothing acknowledged is lost by it.
const realSetImmediate = globalThis.setImmediate;
let contained = 0;

function isPostgresSocketRace(err: unknown): boolean {
  return err instanceof TypeError && /reading 'write'/.test(err.message) && /postgres\/src\/connection\.js/.test(err.stack ?? '');
}

export function containPostgresSocketRace(): { readonly count: number } {
  globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    realSetImmediate(
      (...inner: unknown[]) => {
        try {
          callback(...inner);
        } catch (err) {
          if (!isPostgresSocketRace(err)) throw err;
          contained += 1;
        }
      },
      ...args,
    )) as typeof setImmediate;
  return {
    get count() {
      return contained;
    },
  };
}
