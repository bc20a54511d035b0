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

  it('redacts resident ID numbers and USCCs in the message, in nested fields and in an error, whatever the field', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', instanceId: 'test', destination }).child({ component: 'exchange' });
    const error = new Error('subject 11010519491231002X has no record at 9144030071526726XG');
    logger.info(
      { request: { url: '/v1/audit/subjects/11010519491231002x/accesses', subject: { code: '11010519491231002X' } }, err: error, lowerX: 'id=11010519491231002x', lines: 'first\n11010519491231002X\tnext' },
      'read for 11010519491231002X (case 2026-001) by 9144030071526726XG',
    );
    const text = lines.join('');
    for (const clear of ['11010519491231002X', '11010519491231002x', '9144030071526726XG']) expect(text).not.toContain(clear);
    const line = JSON.parse(lines[0]!);
    expect(line.msg).toBe('read for [id-number] (case 2026-001) by [uscc]');
    expect(line.request.subject.code).toBe('[id-number]');
    expect(line.request.url).toBe('/v1/audit/subjects/[id-number]/accesses');
    expect(line.err.message).toBe('subject [id-number] has no record at [uscc]');
    expect(line.err.stack).not.toContain('11010519491231002X');
    expect(line.lowerX).toBe('id=[id-number]');
    expect(line.lines).toBe('first\n[id-number]\tnext');
  });

  it('leaves digests, UUIDs, times and longer runs alone', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', instanceId: 'test', destination });
    const digest = 'f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640';
    logger.info({ digest, id: '0190d7a4-0000-7000-8000-000000000001', at: '2026-03-01T08:00:00.000Z', long: '1101051949123100271', resource: '210100-GA-0001' }, 'ok');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ digest, id: '0190d7a4-0000-7000-8000-000000000001', long: '1101051949123100271', resource: '210100-GA-0001' });
  });
});
