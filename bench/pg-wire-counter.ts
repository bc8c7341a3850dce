// Counts Postgres round trips from the client's side of the wire protocol: every simple Query
// ('Q') and every Sync ('S', which ends an extended-protocol batch) waits for the server once.
// The stream opens with untyped packets (an optional SSLRequest/GSSENCRequest, then the startup
// message), each an int32 length followed by its body.
const NEGOTIATION_CODES = new Set([80877103, 80877104]);

export class PgRoundTripCounter {
  roundTrips = 0;
  private pending: Buffer = Buffer.alloc(0);
  private untypedExpected = true;

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const headerLength = this.untypedExpected ? 4 : 5;
      if (this.pending.length < headerLength) return;
      const length = this.pending.readInt32BE(headerLength - 4);
      const total = headerLength - 4 + length;
      if (this.pending.length < total) return;
      if (this.untypedExpected) {
        // Only a negotiation request is followed by another untyped packet (the startup message).
        this.untypedExpected = length === 8 && NEGOTIATION_CODES.has(this.pending.readInt32BE(4));
      } else {
        const type = String.fromCharCode(this.pending[0]!);
        if (type === 'Q' || type === 'S') this.roundTrips += 1;
      }
      this.pending = this.pending.subarray(total);
    }
  }
}
