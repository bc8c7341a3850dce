// The bench counts Postgres round trips by reading the frontend side of the wire protocol; a
// miscount would silently skew the cost profile, so the parser is pinned here on real framings.
import fc from 'fast-check';
import t from 'tap';
import { PgRoundTripCounter } from '../../bench/pg-wire-counter.ts';

/** A frontend message: type byte + int32 length (counting itself) + body. */
const message = (type: string, body = Buffer.alloc(0)) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const startup = () => {
  const body = Buffer.from('\u0000\u0003\u0000\u0000user\u0000postgres\u0000\u0000', 'latin1');
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length + 4);
  return Buffer.concat([head, body]);
};
const sslRequest = () => Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

// What postgres.js sends for one session: startup, a password-less simple query, then two
// extended-protocol queries (Parse/Bind/Describe/Execute/Sync each), then Terminate.
const session = () =>
  Buffer.concat([
    startup(),
    message('Q', Buffer.from('select 1\u0000')),
    ...['P', 'B', 'D', 'E', 'S'].map((type) => message(type, Buffer.from('x'.repeat(7)))),
    ...['B', 'E', 'S'].map((type) => message(type, Buffer.from('y'))),
    message('X'),
  ]);

t.test('counts one round trip per simple query and per Sync, however the stream is cut', async (t) => {
  const whole = new PgRoundTripCounter();
  whole.push(session());
  t.equal(whole.roundTrips, 3, 'Q + 2 × Sync');

  await fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }), (cuts) => {
      const bytes = session();
      const counter = new PgRoundTripCounter();
      let at = 0;
      for (const cut of cuts) {
        if (at >= bytes.length) break;
        counter.push(bytes.subarray(at, at + cut));
        at += cut;
      }
      counter.push(bytes.subarray(at));
      return counter.roundTrips === 3;
    }),
  );
});

t.test('an SSLRequest before the startup message is skipped like a startup message', async (t) => {
  const counter = new PgRoundTripCounter();
  counter.push(Buffer.concat([sslRequest(), startup(), message('Q', Buffer.from('select 1\u0000'))]));
  t.equal(counter.roundTrips, 1);
});
