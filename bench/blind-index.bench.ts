// The blind index on the hot path: one HMAC-SM3 per exchange request (the table connector's lookup key and the access
// record's subject), one per key version for a search. Measured beside HMAC-SHA-256 on the same OpenSSL (the figure a
// tuned hash reaches) and beside the exchange's own cost per request, and the log line scrubbing that runs on every
// log line. All in the same run.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { BlindIndex, redactIdentifiers } from '../core/pseudonyms/index.js';
import { opsPerSecond } from './sm2.bench.js';

export interface BlindIndexFigure {
  name: string;
  perSecond: number;
  /** Microseconds per operation. */
  micros: number;
}

export function benchBlindIndex(seconds: number): BlindIndexFigure[] {
  const one = new BlindIndex([{ version: 1, key: randomBytes(32) }]);
  const two = new BlindIndex([{ version: 1, key: randomBytes(32) }, { version: 2, key: randomBytes(32) }]);
  const sha = createSecretKey(randomBytes(32));
  const id = '210103198503120312';
  const plainLine = JSON.stringify({ level: 'info', time: '2026-12-05T08:00:00.000Z', instance: 'gw-1', reqId: 'a053b773-f315-419d-b5e5-549821517b5b', res: { statusCode: 200 }, responseTime: 3.2, msg: 'request completed' });
  const idLine = JSON.stringify({ level: 'info', time: '2026-12-05T08:00:00.000Z', instance: 'gw-1', reqId: 'a053b773', req: { method: 'GET', url: `/v1/audit/subjects/${id}/accesses?requester=11210100001000109A` }, msg: 'incoming request' });
  const figures: [string, () => unknown][] = [
    ['BlindIndex.of (HMAC-SM3, one key version)', () => one.of(id)],
    ['BlindIndex.candidates, two key versions', () => two.candidates(id)],
    ['HMAC-SHA-256, same OpenSSL (comparison)', () => createHmac('sha256', sha).update(id).digest('base64url')],
    ['log line scrub, a line without identifiers', () => redactIdentifiers(plainLine)],
    ['log line scrub, a line with an ID number and a USCC', () => redactIdentifiers(idLine)],
  ];
  return figures.map(([name, op]) => {
    const perSecond = opsPerSecond(op, seconds);
    return { name, perSecond, micros: 1e6 / perSecond };
  });
}

export function printBlindIndex(figures: readonly BlindIndexFigure[]): void {
  process.stdout.write('blind index and log scrubbing, one core:\n');
  for (const f of figures) process.stdout.write(`  ${f.name.padEnd(52)} ${f.perSecond.toFixed(0).padStart(9)} /s  ${f.micros.toFixed(2).padStart(6)} µs\n`);
}
