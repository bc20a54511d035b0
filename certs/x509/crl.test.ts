import { beforeAll, describe, expect, it } from 'vitest';
import { isZtError } from '../../core/errors/index.js';
import { createCrl, exportDer, exportPem, parseCrl, readCrlNumber, verifyCrl, x509 } from './index.js';
import { readTlv, type Tlv } from './der.js';
import { makeTestPki, openssl, tempDir, withFlippedSignatureBit, writeFiles, type TestPki } from './test-pki.js';

let pki: TestPki;
let crl: x509.X509Crl;
const DAY = 86_400_000;

beforeAll(async () => {
  pki = await makeTestPki();
  crl = await createCrl({
    issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey },
    thisUpdate: pki.now,
    nextUpdate: new Date(pki.now.getTime() + 7 * DAY),
    crlNumber: 42,
    entries: [
      { serialNumber: pki.leaf.serialNumber, revocationDate: pki.now, reason: 'keyCompromise' },
      { serialNumber: '0a0b0c', revocationDate: pki.now, reason: 'unspecified' },
      { serialNumber: '7fffffffffffffff01', revocationDate: pki.now, reason: 'cessationOfOperation' },
    ],
  });
});

function children(der: Uint8Array, tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = tlv.start; offset < tlv.end; ) {
    const child = readTlv(der, offset);
    if (!child || child.end > tlv.end) throw new Error(`bad DER at ${offset}`);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** Every constructed TLV in the tree (SEQUENCE, SET, context-specific constructed). */
function constructed(der: Uint8Array, tlv: Tlv, out: Tlv[] = []): Tlv[] {
  if (tlv.tag & 0x20) {
    out.push(tlv);
    for (const child of children(der, tlv)) constructed(der, child, out);
  }
  return out;
}

function oidAt(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.end);
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

describe('CRLs made here', () => {
  it('are written with the PEM label X509 CRL (not the library’s CRL)', () => {
    const pem = exportPem(crl);
    expect(pem.startsWith('-----BEGIN X509 CRL-----\n')).toBe(true);
    expect(pem.trimEnd().endsWith('-----END X509 CRL-----')).toBe(true);
    expect(crl.toString('pem')).toContain('-----BEGIN CRL-----'); // why exportPem exists
  });

  it('parse in openssl crl -inform PEM -noout -text, with a reason on every entry', () => {
    const dir = tempDir();
    writeFiles(dir, { 'crl.pem': exportPem(crl) });
    const result = openssl(['crl', '-inform', 'PEM', '-in', 'crl.pem', '-noout', '-text'], dir);
    expect(result.status).toBe(0);
    const text = result.stdout;
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain('Signature Algorithm: SM2-with-SM3');
    expect(text).toMatch(/X509v3 CRL Number:\s+42/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain(`Serial Number: ${pki.leaf.serialNumber.toUpperCase()}`);
    expect(text).toContain('Serial Number: 0A0B0C');
    expect(text.match(/X509v3 CRL Reason Code:/g)).toHaveLength(3);
    expect(text).toMatch(/Reason Code:\s+Key Compromise/);
    expect(text).toMatch(/Reason Code:\s+Unspecified/);
    expect(text).toMatch(/Reason Code:\s+Cessation Of Operation/);
  });

  it('are well-formed per RFC 5280: v2, a reasonCode on each entry, no empty SEQUENCE anywhere', () => {
    const der = exportDer(crl);
    const top = readTlv(der)!;
    expect(top.end).toBe(der.length);
    const [tbs, sigAlg] = children(der, top);
    const tbsFields = children(der, tbs!);
    // version INTEGER 1 (v2) comes first.
    expect(tbsFields[0]!.tag).toBe(0x02);
    expect(Buffer.from(der.subarray(tbsFields[0]!.start, tbsFields[0]!.end))).toEqual(Buffer.from([1]));
    // signature AlgorithmIdentifier: the bare OID, in the TBS and outside.
    for (const alg of [tbsFields[1]!, sigAlg!]) {
      const parts = children(der, alg);
      expect(parts).toHaveLength(1);
      expect(oidAt(der, parts[0]!)).toBe('1.2.156.10197.1.501');
    }
    const revoked = tbsFields.find((f, i) => i > 3 && f.tag === 0x30)!; // after issuer, thisUpdate, nextUpdate
    const entries = children(der, revoked);
    expect(entries).toHaveLength(3);
    for (const entry of entries) {
      const [, , entryExtensions] = children(der, entry);
      expect(entryExtensions, 'crlEntryExtensions present').toBeDefined();
      const extensions = children(der, entryExtensions!);
      expect(extensions.length).toBeGreaterThan(0);
      expect(extensions.map((e) => oidAt(der, children(der, e)[0]!))).toContain('2.5.29.21');
    }
    for (const tlv of constructed(der, top)) expect(tlv.end - tlv.start, `empty constructed value at ${tlv.start}`).toBeGreaterThan(0);
  });

  it('verify against their issuer only, and not when a bit is flipped', async () => {
    await expect(verifyCrl(crl, pki.issuing)).resolves.toBeUndefined();
    await expect(verifyCrl(crl, pki.root)).rejects.toMatchObject({ code: 'ZT_ERR_CRL_MALFORMED' });
    await expect(verifyCrl(parseCrl(withFlippedSignatureBit(crl.rawData)), pki.issuing)).rejects.toMatchObject({ code: 'ZT_ERR_CRL_MALFORMED' });
  });

  it('read back: entries, reasons, CRL number; from PEM (either label) and DER', () => {
    const der = exportDer(crl);
    for (const input of [exportPem(crl), crl.toString('pem'), der]) {
      const parsed = parseCrl(input);
      expect(exportDer(parsed).equals(der)).toBe(true);
      expect(readCrlNumber(parsed)).toBe(42n);
      expect(parsed.findRevoked(pki.leaf.serialNumber)?.reason).toBe(x509.X509CrlReason.keyCompromise);
      expect(parsed.findRevoked('0a0b0c')?.reason).toBe(x509.X509CrlReason.unspecified);
      expect(parsed.findRevoked(pki.otherLeaf.serialNumber)).toBeNull();
    }
  });

  it('take CRL numbers beyond 2^53', async () => {
    const big = (1n << 64n) + 1n;
    const next = await createCrl({
      issuer: { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey },
      thisUpdate: pki.now,
      nextUpdate: new Date(pki.now.getTime() + DAY),
      crlNumber: big,
      entries: [],
    });
    expect(readCrlNumber(next)).toBe(big);
    expect(next.entries).toHaveLength(0);
  });

  it('refuse an issuer without cRLSign, a repeated serial, and dates out of order', async () => {
    const base = { thisUpdate: pki.now, nextUpdate: new Date(pki.now.getTime() + DAY), crlNumber: 1, entries: [] };
    await expect(createCrl({ ...base, issuer: { certificate: pki.leaf, privateKey: pki.leafKeys.privateKey } })).rejects.toMatchObject({ code: 'ZT_ERR_CERT_USAGE' });
    const issuer = { certificate: pki.issuing, privateKey: pki.issuingKeys.privateKey };
    const entry = { serialNumber: '01', revocationDate: pki.now, reason: 'superseded' as const };
    await expect(createCrl({ ...base, issuer, entries: [entry, { ...entry, serialNumber: '0001' }] })).rejects.toMatchObject({ code: 'ZT_ERR_REQUEST_INVALID' });
    await expect(createCrl({ ...base, issuer, nextUpdate: pki.now })).rejects.toMatchObject({ code: 'ZT_ERR_REQUEST_INVALID' });
  });

  it('ZT_ERR_CRL_MALFORMED for garbage and for a certificate', () => {
    for (const input of ['', 'junk', Buffer.from([0x30, 0x01, 0x00, 0x00]), exportPem(pki.leaf), exportPem(pki.leaf).replace(/CERTIFICATE/g, 'X509 CRL')]) {
      try {
        parseCrl(input);
        expect.unreachable(`accepted ${String(input).slice(0, 30)}`);
      } catch (error) {
        expect(isZtError(error) && error.code).toBe('ZT_ERR_CRL_MALFORMED');
      }
    }
  });
});
