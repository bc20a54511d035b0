// The archive file on its own: written from records whose leaves are computed here, verified offline, and refused
// when altered, cut short, re-signed by another key or checked against another CA.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../core/canonical-json.js';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { envelopeToJson, signEnvelope } from '../../certs/envelope/index.js';
import { InProcessSm2Signer, inclusionProof, merkleRoot } from '../../certs/signer/index.js';
import { exportPem } from '../../certs/x509/index.js';
import { makeLicenceWorld, PLATFORM_USCC, type LicenceWorld } from '../../licences/offline/test-support.js';
import { normaliseAccessRecord, type AccessRecordInput } from '../access-record.js';
import type { StoredAccessRecord } from '../access-record-row.js';
import { accessLeafHash } from '../log/leaf.js';
import { signCheckpoint } from '../log/checkpoint.js';
import type { ArchiveCheckpointJson } from './format.js';
import { rootFromSegmentPath } from './segment-tree.js';
import { verifyArchiveFile, type ArchiveTrust } from './verify.js';
import { writeArchiveFile, type SegmentLeaf } from './writer.js';

const BITS = 3;
const FROM = 8;
const TO = 16;
const TREE = 21;

function record(seq: number, overrides: Partial<AccessRecordInput> = {}): StoredAccessRecord {
  const input: AccessRecordInput =
    seq % 3 === 0
      ? { decision: 'deny', errorCode: 'ZT_ERR_REQUEST_INVALID', protocol: 'grpc', latencyMs: 0.4, operator: '李四', subjectCode: 'junk "quoted" \\ text' }
      : {
          decision: 'permit',
          protocol: 'http',
          latencyMs: 10000.123 + seq, // a float4 that does not round-trip through three decimals
          requester: '11210100001000029N',
          operator: '张三',
          subjectKind: 'person',
          subjectCode: '11010519491231002X',
          resource: '210100-GA-0001',
          itemsRequested: ['name', 'address'],
          itemsReturned: ['name'],
          serviceItem: '210100-SB-0001',
          caseNumber: `BJ-2025-${seq}`,
          ruleIds: ['GA-PHOTO-1'],
          policyRevision: '2025-08-01.1',
          requestDigest: randomBytes(32),
          responseDigest: randomBytes(32),
          certificateSm3: randomBytes(32),
        };
  const normalised = normaliseAccessRecord({ ...input, at: new Date(Date.UTC(2024, 0, 1, 8, seq)), ...overrides }, { instance: 'gw-1' });
  // As the database gives it back: latency a float4.
  return { ...normalised, latencyMs: Math.fround(normalised.latencyMs), seq };
}

/** A checkpoint of the log's own format. */
async function checkpointOf(signer: InProcessSm2Signer, treeSize: number, root: Buffer): Promise<ArchiveCheckpointJson> {
  return signCheckpoint(signer, { treeSize, rootHash: root, platform: PLATFORM_USCC });
}

async function failure(promise: Promise<unknown>): Promise<ZtError> {
  try {
    await promise;
  } catch (error) {
    if (isZtError(error)) return error;
    throw error;
  }
  throw new Error('expected the archive to be refused');
}

describe('archive file', () => {
  let world: LicenceWorld;
  let other: LicenceWorld;
  let dir: string;
  let trust: ArchiveTrust;
  let records: StoredAccessRecord[];
  let file: string;
  const sign = (signer: InProcessSm2Signer) => async (payload: Buffer) => envelopeToJson(await signEnvelope(signer, payload));

  async function write(into: string, leaves: StoredAccessRecord[] = records): Promise<string> {
    const hashes = leaves.map(accessLeafHash);
    const segment = leaves.slice(FROM, TO);
    const written = await writeArchiveFile(
      into,
      {
        header: {
          leafFrom: FROM,
          leafTo: TO,
          segmentBits: BITS,
          records: TO - FROM,
          decisions: { permit: segment.filter((r) => r.decision === 'permit').length, deny: segment.filter((r) => r.decision === 'deny').length, error: 0 },
          firstSeq: segment[0]!.seq,
          lastSeq: segment.at(-1)!.seq,
          firstAt: segment[0]!.at.toISOString(),
          lastAt: segment.at(-1)!.at.toISOString(),
          segmentRoot: merkleRoot(hashes.slice(FROM, TO)).toString('hex'),
          platformUscc: PLATFORM_USCC,
          sealedAt: new Date().toISOString(),
        },
        leaves: (async function* (): AsyncGenerator<SegmentLeaf> {
          for (let i = FROM; i < TO; i++) yield { leafIndex: i, leafHash: hashes[i]!, record: leaves[i]! };
        })(),
        checkpoint: await checkpointOf(world.signer, TREE, merkleRoot(hashes.slice(0, TREE))),
        segmentPath: inclusionProof(FROM, hashes.slice(0, TREE)).slice(BITS),
      },
      sign(world.signer),
    );
    return written.path;
  }

  /** Rewrites the uncompressed lines of the archive. */
  function edit(path: string, change: (lines: string[]) => string[]): string {
    const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n');
    const out = join(dir, `edited-${randomBytes(4).toString('hex')}.jsonl.gz`);
    writeFileSync(out, gzipSync(change(lines).join('\n')));
    return out;
  }

  beforeAll(async () => {
    world = await makeLicenceWorld();
    other = await makeLicenceWorld();
    dir = mkdtempSync(join(tmpdir(), 'zt-archive-'));
    trust = { trustAnchors: [exportPem(world.pki.root)], intermediates: [exportPem(world.pki.issuing)], platformUscc: PLATFORM_USCC };
    records = Array.from({ length: TREE }, (_, i) => record(i + 1));
    file = await write(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies offline and gives back every record, leaf for leaf', async () => {
    const seen: StoredAccessRecord[] = [];
    const result = await verifyArchiveFile(file, { trust, onRecord: (r) => void seen.push(r) });
    expect(result.header).toMatchObject({ leafFrom: FROM, leafTo: TO, records: 8, decisions: { permit: 5, deny: 3, error: 0 } });
    expect(result.checkpoint.treeSize).toBe(TREE);
    expect(result.signer.uscc).toBe(PLATFORM_USCC);
    expect(seen.map(accessLeafHash)).toEqual(records.slice(FROM, TO).map(accessLeafHash));
    expect(seen[0]).toEqual(records[FROM]);
    expect(file).toMatch(/access-log-000000000008-000000000016\.jsonl\.gz$/);
  });

  it('ties the segment root to the checkpoint through its audit path', () => {
    const hashes = records.map(accessLeafHash);
    const path = inclusionProof(FROM, hashes.slice(0, TREE)).slice(BITS);
    const segmentRoot = merkleRoot(hashes.slice(FROM, TO));
    expect(rootFromSegmentPath(segmentRoot, FROM, BITS, TREE, path)).toEqual(merkleRoot(hashes.slice(0, TREE)));
    expect(rootFromSegmentPath(segmentRoot, FROM, BITS, 16, inclusionProof(FROM, hashes.slice(0, 16)).slice(BITS))).toEqual(merkleRoot(hashes.slice(0, 16)));
    expect(rootFromSegmentPath(segmentRoot, FROM, BITS, TREE, path.slice(1))).not.toEqual(merkleRoot(hashes.slice(0, TREE)));
    expect(rootFromSegmentPath(segmentRoot, FROM + 1, BITS, TREE, path)).toBeUndefined();
  });

  it('names the record line that was altered', async () => {
    // Line 1 is the header, so leaf 8 + 3 = leaf 11 is on line 5. One byte of its instance changes.
    const altered = edit(file, (lines) => lines.map((l, i) => (i === 4 ? l.replace('"gw-1"', '"gw-2"') : l)));
    const error = await failure(verifyArchiveFile(altered, { trust }));
    expect(error.code).toBe('ZT_ERR_ARCHIVE_INVALID');
    expect(error.message).toMatch(/^line 5: the record of leaf 11 \(seq 12, .*this record was altered/);
    expect(error.details).toEqual({ line: 5 });
  });

  it('refuses a record altered with its leaf hash, a removed record, and lines moved', async () => {
    const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
    const withHash = edit(file, (ls) =>
      ls.map((l, i) => {
        if (i !== 3) return l;
        const o = JSON.parse(l);
        o.record.operator = '王五';
        const r = { ...records[FROM + 2]!, operator: '王五' };
        o.leafHash = accessLeafHash(r).toString('hex');
        return JSON.stringify(o);
      }),
    );
    expect((await failure(verifyArchiveFile(withHash, { trust }))).message).toMatch(/do not give the segment root/);
    const removed = edit(file, (ls) => ls.filter((_, i) => i !== 6));
    expect((await failure(verifyArchiveFile(removed, { trust }))).message).toMatch(/^line 7: expected leaf 13, found 14/);
    const swapped = edit(file, () => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]);
    expect((await failure(verifyArchiveFile(swapped, { trust }))).message).toMatch(/^line 2: expected leaf 8, found 9/);
  });

  it('refuses a file cut short, one with lines appended, and one that is not gzip', async () => {
    const bytes = readFileSync(file);
    const cut = join(dir, 'cut.jsonl.gz');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const error = await failure(verifyArchiveFile(cut, { trust }));
    expect(error.code).toBe('ZT_ERR_ARCHIVE_INVALID');
    expect(error.message).toMatch(/truncated or damaged/);
    const appended = edit(file, (ls) => [...ls.slice(0, -1), '{"type":"record"}', '']);
    expect((await failure(verifyArchiveFile(appended, { trust }))).message).toMatch(/^line 12: follows the manifest/);
    const noManifest = edit(file, (ls) => [...ls.slice(0, -2), '']);
    expect((await failure(verifyArchiveFile(noManifest, { trust }))).message).toMatch(/ends before the signed manifest/);
    const plain = join(dir, 'plain.jsonl.gz');
    writeFileSync(plain, gunzipSync(bytes));
    expect((await failure(verifyArchiveFile(plain, { trust }))).message).toMatch(/truncated or damaged/);
    expect((await failure(verifyArchiveFile(join(dir, 'missing.jsonl.gz'), { trust }))).code).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('refuses a manifest re-signed by a foreign key, or by a department of the same CA', async () => {
    const resign = async (signer: InProcessSm2Signer): Promise<string> => {
      const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
      const manifestLine = JSON.parse(lines.at(-2)!);
      manifestLine.envelope = envelopeToJson(await signEnvelope(signer, Buffer.from(canonicalJson(manifestLine.manifest))));
      return edit(file, (ls) => [...ls.slice(0, -2), JSON.stringify(manifestLine), '']);
    };
    const foreign = await failure(verifyArchiveFile(await resign(other.signer), { trust }));
    expect(foreign.message).toMatch(/^line 11: the manifest is not signed by the platform: its signer's certificate does not chain to the CA given/);
    const department = new InProcessSm2Signer({ privateKey: world.pki.leafKeys.privateKey, certificate: new Uint8Array(world.pki.leaf.rawData) });
    const byDepartment = await failure(verifyArchiveFile(await resign(department), { trust }));
    expect(byDepartment.message).toMatch(/the manifest is not signed by the platform .* but by/);
    // The manifest's own content changed under its signature.
    const changed = edit(file, (ls) => ls.map((l, i) => (i === ls.length - 2 ? l.replace('"records":8', '"records":9') : l)));
    expect((await failure(verifyArchiveFile(changed, { trust }))).message).toMatch(/manifest's signature does not hold/);
  });

  it('refuses a file checked against another CA', async () => {
    const otherTrust: ArchiveTrust = { trustAnchors: [exportPem(other.pki.root)], intermediates: [exportPem(other.pki.issuing)], platformUscc: PLATFORM_USCC };
    const error = await failure(verifyArchiveFile(file, { trust: otherTrust }));
    expect(error.code).toBe('ZT_ERR_ARCHIVE_INVALID');
    expect(error.message).toMatch(/^line 10: checkpoint 21 is not a valid signed checkpoint of the platform: .*signer's certificate is not trusted .*ZT_ERR_CERT_UNKNOWN_ISSUER/);
  });

  it('refuses to write an archive whose records no longer give their leaves', async () => {
    const into = mkdtempSync(join(tmpdir(), 'zt-archive-'));
    try {
      const edited = records.map((r, i) => (i === FROM + 1 ? { ...r, operator: 'someone else' } : r));
      // The leaves are those of the original records (what the log holds); one record now differs.
      const hashes = records.map(accessLeafHash);
      const error = await failure(
        writeArchiveFile(
          into,
          {
            header: { leafFrom: FROM, leafTo: TO, segmentBits: BITS, records: 8, decisions: { permit: 5, deny: 3, error: 0 }, firstSeq: 9, lastSeq: 16, firstAt: '', lastAt: '', segmentRoot: merkleRoot(hashes.slice(FROM, TO)).toString('hex'), platformUscc: PLATFORM_USCC, sealedAt: '' },
            leaves: (async function* () {
              for (let i = FROM; i < TO; i++) yield { leafIndex: i, leafHash: hashes[i]!, record: edited[i]! };
            })(),
            checkpoint: await checkpointOf(world.signer, TREE, merkleRoot(hashes.slice(0, TREE))),
            segmentPath: inclusionProof(FROM, hashes.slice(0, TREE)).slice(BITS),
          },
          sign(world.signer),
        ),
      );
      expect(error.code).toBe('ZT_ERR_ARCHIVE_STATE');
      expect(error.message).toMatch(/record seq 10 .* no longer gives its leaf 9/);
      expect(readdirSync(into)).toEqual([]);
    } finally {
      rmSync(into, { recursive: true, force: true });
    }
  });
});
