// The blind index: HMAC-SM3 as an independent implementation computes it, its form, versions and candidates, and the
// key file and the database's check of it.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import smCrypto from 'sm-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase, rejectionCode } from '../../test/support/ca.js';
import {
  addPseudonymKeyVersion,
  BLIND_INDEX,
  BlindIndex,
  blindIndexVersion,
  hmacSm3,
  isBlindIndex,
  openPseudonyms,
  parsePseudonymKeyList,
  readPseudonymKeyFile,
  redactIdentifiers,
} from './index.js';

const sm3Hmac = (smCrypto as { sm3: (input: number[] | string, options: { key: string }) => string }).sm3;
const ID = '11010519491231002X';
const USCC = '9144030071526726XG';

describe('BlindIndex', () => {
  const key = randomBytes(32);
  const index = new BlindIndex([{ version: 1, key }]);

  it('is HMAC-SM3 (RFC 2104) of a domain byte and the upper-cased code, as sm-crypto computes it', () => {
    const message = [0x01, ...Buffer.from(ID, 'utf8')];
    const expected = Buffer.from(sm3Hmac(message, { key: key.toString('hex') }), 'hex');
    expect(hmacSm3(key, Buffer.from([0x01]), ID).equals(expected)).toBe(true);
    expect(index.of(ID)).toBe(`p1.${expected.toString('base64url')}`);
    // Long keys are hashed first, as RFC 2104 says: the same in both implementations.
    const long = randomBytes(100);
    expect(new BlindIndex([{ version: 1, key: randomBytes(32) }]).of(ID)).not.toBe(index.of(ID));
    expect(hmacSm3(long, 'x').toString('hex')).toBe(sm3Hmac('x', { key: long.toString('hex') }));
  });

  it('normalises the code: spaces and a lower-case x make no other index', () => {
    expect(index.of(` ${ID.toLowerCase()} `)).toBe(index.of(ID));
    expect(index.of(ID)).toMatch(BLIND_INDEX);
    expect(isBlindIndex(index.of(USCC))).toBe(true);
    expect(isBlindIndex(ID)).toBe(false);
    expect(index.of(ID)).not.toContain(ID);
  });

  it('writes with the highest version and searches under every version', () => {
    const v2 = randomBytes(32);
    const rotated = new BlindIndex([{ version: 1, key }, { version: 2, key: v2 }]);
    expect(rotated.current).toBe(2);
    expect(blindIndexVersion(rotated.of(ID))).toBe(2);
    expect(rotated.candidates(ID)).toEqual([rotated.under(2, ID), index.of(ID)]);
    expect(rotated.matches(index.of(ID), ID)).toBe(true);
    expect(rotated.matches(index.of(USCC), ID)).toBe(false);
    expect(rotated.ensure(index.of(ID))).toBe(index.of(ID));
    expect(rotated.ensure(ID)).toBe(rotated.of(ID));
    expect(() => new BlindIndex([{ version: 1, key: randomBytes(16) }])).toThrow(/16 bytes/);
  });

  it('costs a few microseconds', () => {
    const n = 20_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) index.of(ID);
    const micros = Number(process.hrtime.bigint() - started) / 1000 / n;
    expect(micros).toBeLessThan(50);
  });
});

describe('pseudonym keys', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zt-pseudonyms-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the key file (mode 0600) on an empty database, registers its check value, and refuses another key', async () => {
    const db = await openMigratedDatabase();
    try {
      const file = join(dir, 'a', 'pseudonym-keys.json');
      const first = await openPseudonyms(db, { keyFile: file });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readPseudonymKeyFile(file)).toHaveLength(1);
      const again = await openPseudonyms(db, { keyFile: file });
      expect(again.of(ID)).toBe(first.of(ID));
      // A second host with a key of its own, or without the file, is refused.
      expect(await rejectionCode(openPseudonyms(db, { keyFile: join(dir, 'other.json'), keys: `1:${randomBytes(32).toString('base64')}` }))).toBe('ZT_ERR_CONFIG_INVALID');
      expect(await rejectionCode(openPseudonyms(db, { keyFile: join(dir, 'missing.json') }))).toBe('ZT_ERR_CONFIG_INVALID');
      // Rotation: version 2 is added, becomes current once the instances read it, and version 1 stays live.
      expect(addPseudonymKeyVersion(file)).toBe(2);
      const rotated = await openPseudonyms(db, { keyFile: file });
      expect(rotated.current).toBe(2);
      expect(rotated.candidates(ID)).toContain(first.of(ID));
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // The old file lacks version 2, which the database now knows.
      const v1Only = `1:${(JSON.parse(readFileSync(file, 'utf8')) as { keys: { key: string }[] }).keys[0]!.key}`;
      expect(await rejectionCode(openPseudonyms(db, { keyFile: file, keys: v1Only }))).toBe('ZT_ERR_CONFIG_INVALID');
    } finally {
      await db.close();
    }
  });

  it('reads ZT_PSEUDONYM_KEYS and says what is wrong with it', () => {
    const a = randomBytes(32).toString('base64');
    expect(parsePseudonymKeyList(`1:${a}, 3:${a}`).map((k) => k.version)).toEqual([1, 3]);
    expect(() => parsePseudonymKeyList('1:abc')).toThrow(/32 bytes/);
    expect(() => parsePseudonymKeyList(`x${a}`)).toThrow(/version:base64/);
    expect(() => parsePseudonymKeyList(`1:${a},1:${a}`)).toThrow(/twice/);
  });
});

describe('redactIdentifiers', () => {
  it('replaces ID numbers and USCCs standing alone, and is cheap on lines without them', () => {
    expect(redactIdentifiers(`a ${ID} b ${USCC} c 1${ID}`)).toBe(`a [id-number] b [uscc] c 1${ID}`);
    const line = JSON.stringify({ level: 'info', time: '2026-03-01T08:00:00.000Z', instance: 'gw-1', reqId: 'req-1f', msg: 'request completed', responseTime: 1.23 });
    const n = 100_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) redactIdentifiers(line);
    expect(Number(process.hrtime.bigint() - started) / 1000 / n).toBeLessThan(20);
  });
});
