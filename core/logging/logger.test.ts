import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index.js';

describe('logging', () => {
  it('redacts personal data and key material wherever it appears in a log line', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', instanceId: 'test', destination });
    logger.info(
      {
        idNumber: '11010519491231002X',
        body: { personName: '张三', phone: '13800000000', department: '民政局' },
        privateKey: '-----BEGIN PRIVATE KEY-----',
        req: { headers: { authorization: 'SM2 abc' } },
        databaseUrl: 'postgres://u:p@h/db',
      },
      'request',
    );
    const text = lines.join('');
    for (const secret of ['11010519491231002X', '张三', '13800000000', 'BEGIN PRIVATE KEY', 'SM2 abc', 'u:p@h']) expect(text).not.toContain(secret);
    expect(text).toContain('民政局');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', instance: 'test', msg: 'request', idNumber: '[redacted]' });
  });
});
