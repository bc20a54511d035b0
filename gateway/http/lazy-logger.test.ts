import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { lazyChildLogger } from './lazy-logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level }, stream) as unknown as FastifyBaseLogger;
  return { logger, lines };
}

describe('the lazy per-request logger', () => {
  it('makes no child for calls below the level, and writes enabled ones with the request\'s bindings', async () => {
    const { logger, lines } = capture('warn');
    const child = vi.spyOn(logger, 'child');
    const log = lazyChildLogger(logger, { reqId: 'r-1' }, {});
    log.info({ a: 1 }, 'not written');
    log.debug('nor this');
    expect(child).not.toHaveBeenCalled();
    expect(log.level).toBe('warn');
    log.warn({ code: 'ZT_ERR_X' }, 'written');
    log.error('and this');
    expect(child).toHaveBeenCalledTimes(1);
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.reqId, l.code])).toEqual([
      ['written', 'r-1', 'ZT_ERR_X'],
      ['and this', 'r-1', undefined],
    ]);
  });

  it('follows a level set on it, and hands out real children', async () => {
    const { logger, lines } = capture('warn');
    const log = lazyChildLogger(logger, { reqId: 'r-2' }, {});
    log.level = 'info';
    log.info('now written');
    log.child({ step: 'x' }).warn('from a grandchild');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.reqId, l.step])).toEqual([
      ['now written', 'r-2', undefined],
      ['from a grandchild', 'r-2', 'x'],
    ]);
    expect(logger.level).toBe('warn');
  });
});
