// Verifying an archive file offline (离线核验): no database, no server, only the platform CA's certificates. In
// order, stopping at the first problem, which is named by line:
//   1. the file is a whole gzip stream of lines, each one JSON object of the expected type, in the expected order;
//   2. each record gives the leaf hash its line states (else: this record line was altered), the leaves are the
//      segment's, in order, and give the segment root of the header;
//   3. the segment root's audit path reaches the checkpoint's root, and the checkpoint is signed by the platform;
//   4. the manifest covers every byte before it (SM3) and is signed by the platform: its signer's certificate chains
//      to the CA given, allows digital signatures, and names the platform's USCC.
// Revocation is not checked offline (there are no CRLs here); the certificates are checked at their signing times.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { canonicalJson } from '../../core/canonical-json.js';
import { isZtError, ZtError } from '../../core/errors/index.js';
import { decodeEnvelopeJson, verifyEnvelope, type EnvelopeJson, type SignedEnvelope } from '../../certs/envelope/index.js';
import { loadSm2PublicKey, sm3 } from '../../certs/sm2/sm2.js';
import { assertCertificateUsage, parseCertificate, readUscc, validateChain, type EncodedInput, type x509 } from '../../certs/x509/index.js';
import type { StoredAccessRecord } from '../access-record-row.js';
import { accessLeafHash, ACCESS_LEAF_SCHEMA } from '../log/leaf.js';
import { verifyCheckpoint } from '../log/checkpoint.js';
import {
  ARCHIVE_MANIFEST_SCHEMA,
  ARCHIVE_SCHEMA,
  archiveInvalid,
  MAX_LINE_BYTES,
  MAX_SEGMENT_BITS,
  MIN_SEGMENT_BITS,
  recordFromArchive,
  type ArchiveCheckpointJson,
  type ArchiveHeader,
  type ArchiveManifest,
} from './format.js';
import { PerfectTreeBuilder, rootFromSegmentPath } from './segment-tree.js';

/** The platform CA's certificates, and the USCC the platform's signing certificate must name. */
export interface ArchiveTrust {
  trustAnchors: readonly EncodedInput[];
  intermediates: readonly EncodedInput[];
  platformUscc?: string;
}

export interface ArchiveSignerInfo {
  subject: string;
  uscc: string | undefined;
  /** SM3 of the certificate DER, hex. */
  fingerprint: string;
  signedAt: Date;
}

/** Checks a checkpoint's signature (the log's own checkpoint verifier); throws when it does not hold. */
export type ArchiveCheckpointVerifier = (checkpoint: ArchiveCheckpointJson, trust: ArchiveTrust) => Promise<void>;

export interface VerifyArchiveOptions {
  trust: ArchiveTrust;
  /** Default: the log's verifyCheckpoint. */
  verifyCheckpoint?: ArchiveCheckpointVerifier;
  /** Called for each record once its leaf is checked (restore inserts them); awaited, so it may write. */
  onRecord?: (record: StoredAccessRecord, leafHash: Buffer, leafIndex: number) => void | Promise<void>;
}

export interface ArchiveVerification {
  file: string;
  /** SM3 of the file as stored. */
  fileSm3: Buffer;
  header: ArchiveHeader;
  checkpoint: { treeSize: number; rootHash: string; signedAt: string };
  manifest: ArchiveManifest;
  signer: ArchiveSignerInfo;
}

const HEX32 = /^[0-9a-f]{64}$/;

const defaultCheckpointVerifier: ArchiveCheckpointVerifier = async (checkpoint, trust) => {
  await verifyCheckpoint(checkpoint, trust);
};

function object(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw archiveInvalid('is not valid JSON: the file was altered or damaged', line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw archiveInvalid('is not a JSON object', line);
  return value as Record<string, unknown>;
}

function isCount(value: unknown, min = 0): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function readHeader(o: Record<string, unknown>): ArchiveHeader {
  const bad = (why: string): never => {
    throw archiveInvalid(`the header ${why}`, 1);
  };
  if (o.type !== 'header') bad('is missing: the first line must be the archive header');
  if (o.schema !== ARCHIVE_SCHEMA) bad(`names schema ${JSON.stringify(o.schema)}; this verifier reads ${ARCHIVE_SCHEMA}`);
  if (o.leafSchema !== ACCESS_LEAF_SCHEMA) bad(`names leaf schema ${JSON.stringify(o.leafSchema)}; this verifier hashes ${ACCESS_LEAF_SCHEMA}`);
  const bits = o.segmentBits;
  if (!isCount(bits) || bits < MIN_SEGMENT_BITS || bits > MAX_SEGMENT_BITS) bad(`segmentBits must be ${MIN_SEGMENT_BITS} to ${MAX_SEGMENT_BITS}`);
  const size = 2 ** (bits as number);
  if (!isCount(o.leafFrom) || o.leafFrom % size !== 0 || o.leafTo !== o.leafFrom + size) bad('range is not an aligned segment of 2^segmentBits leaves');
  if (o.records !== size) bad(`says ${String(o.records)} records; a segment holds ${size}`);
  if (typeof o.segmentRoot !== 'string' || !HEX32.test(o.segmentRoot)) bad('segmentRoot is not an SM3 digest');
  return o as unknown as ArchiveHeader;
}

/** Splits the uncompressed stream into lines, hashing exactly the bytes of each line that has been handed out. */
class LineSplitter {
  readonly content: Hash = createHash('sm3');
  contentBytes = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  *push(chunk: Buffer, lineNumber: () => number): Generator<Buffer> {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl + 1);
      this.#check(piece.length, lineNumber);
      const bytes = this.#pendingBytes > 0 ? Buffer.concat([...this.#pending, piece]) : piece;
      this.#pending = [];
      this.#pendingBytes = 0;
      start = nl + 1;
      yield bytes;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#check(rest.length, lineNumber);
      this.#pending.push(Buffer.from(rest));
      this.#pendingBytes += rest.length;
    }
  }

  /** Bytes after the last newline. */
  rest(): Buffer {
    return Buffer.concat(this.#pending);
  }

  /** Called once a line is accepted as content (i.e. not the manifest). */
  cover(bytes: Buffer): void {
    this.content.update(bytes);
    this.contentBytes += bytes.length;
  }

  #check(more: number, lineNumber: () => number): void {
    if (this.#pendingBytes + more > MAX_LINE_BYTES) throw archiveInvalid(`is longer than ${MAX_LINE_BYTES} bytes: this is not an archive file`, lineNumber());
  }
}

interface PlatformEnvelope {
  signer: ArchiveSignerInfo;
}

/**
 * Checks that `envelopeJson` is the platform's signature over `payload`: its certificate chains to the CA at the
 * signing time, may sign, names the platform's USCC, and the signature holds. `what` names it in messages.
 */
export async function verifyPlatformEnvelope(envelopeJson: unknown, payload: Uint8Array, trust: ArchiveTrust, what: string, line?: number): Promise<PlatformEnvelope> {
  let envelope: SignedEnvelope;
  try {
    envelope = decodeEnvelopeJson(envelopeJson as EnvelopeJson);
  } catch (error) {
    throw archiveInvalid(`the ${what}'s signature is malformed: ${(error as Error).message}`, line, 'ZT_ERR_ARCHIVE_INVALID', error);
  }
  if (!envelope.signer.certificate) throw archiveInvalid(`the ${what}'s signature carries no certificate to check it with`, line);
  let certificate: x509.X509Certificate;
  try {
    certificate = parseCertificate(envelope.signer.certificate);
    await validateChain({ certificate, trustAnchors: trust.trustAnchors, intermediates: trust.intermediates, at: envelope.signingTime });
    assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });
  } catch (error) {
    const detail = isZtError(error) ? `${error.message} [${error.code}]` : (error as Error).message;
    throw archiveInvalid(`the ${what} is not signed by the platform: its signer's certificate does not chain to the CA given (${detail})`, line, 'ZT_ERR_ARCHIVE_INVALID', error);
  }
  const uscc = readUscc(certificate);
  if (trust.platformUscc !== undefined && uscc !== trust.platformUscc) {
    throw archiveInvalid(`the ${what} is not signed by the platform ${trust.platformUscc} but by "${certificate.subject}"${uscc ? ` (USCC ${uscc})` : ''}`, line);
  }
  try {
    await verifyEnvelope(envelope, payload, { publicKey: loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData)) });
  } catch (error) {
    const detail = isZtError(error) ? error.message : (error as Error).message;
    throw archiveInvalid(`the ${what}'s signature does not hold: what it covers was altered after signing (${detail})`, line, 'ZT_ERR_ARCHIVE_INVALID', error);
  }
  return {
    signer: { subject: certificate.subject, uscc, fingerprint: sm3(new Uint8Array(certificate.rawData)).toString('hex'), signedAt: envelope.signingTime },
  };
}

function readCheckpointLine(o: Record<string, unknown>, line: number): { checkpoint: ArchiveCheckpointJson; path: Buffer[] } {
  const bad = (why: string): never => {
    throw archiveInvalid(`the checkpoint ${why}`, line);
  };
  if (o.type !== 'checkpoint') bad(`is missing: expected it after the last record, found a ${JSON.stringify(o.type)} line`);
  const c = o.checkpoint as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null) bad('is not an object');
  if (!isCount(c!.treeSize, 1)) bad('treeSize is not a tree size');
  if (typeof c!.rootHash !== 'string' || !HEX32.test(c!.rootHash)) bad('rootHash is not an SM3 digest');
  if (typeof c!.signedAt !== 'string') bad('signedAt is not a time');
  if (typeof c!.envelope !== 'object' || c!.envelope === null) bad('has no signed envelope');
  const path = o.segmentPath;
  if (!Array.isArray(path) || path.length > 64 || path.some((h) => typeof h !== 'string' || !HEX32.test(h))) bad('segmentPath is not a list of SM3 digests');
  return { checkpoint: c as unknown as ArchiveCheckpointJson, path: (path as string[]).map((h) => Buffer.from(h, 'hex')) };
}

/**
 * Verifies the archive file at `file`. Resolves with what it holds when every check passes; rejects with
 * ZT_ERR_ARCHIVE_INVALID naming the first problem (and its line) otherwise.
 */
export async function verifyArchiveFile(file: string, options: VerifyArchiveOptions): Promise<ArchiveVerification> {
  const fileSm3 = createHash('sm3');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      fileSm3.update(chunk);
      done(null, chunk);
    },
  });
  const gunzip = pipeline(createReadStream(file), tap, createGunzip(), () => undefined);
  const splitter = new LineSplitter();
  let lineNumber = 0;
  let header: ArchiveHeader | undefined;
  let tree: PerfectTreeBuilder | undefined;
  let nextLeaf = 0;
  let checkpointLine: { checkpoint: ArchiveCheckpointJson; path: Buffer[]; line: number } | undefined;
  let manifestLine: { value: Record<string, unknown>; line: number; contentSm3: string; contentBytes: number } | undefined;

  const take = async (bytes: Buffer): Promise<void> => {
    lineNumber++;
    if (manifestLine) throw archiveInvalid('follows the manifest, which must be the last line: something was appended', lineNumber);
    const o = object(bytes.toString('utf8'), lineNumber);
    if (!header) {
      header = readHeader(o);
      tree = new PerfectTreeBuilder(header.segmentBits);
      nextLeaf = header.leafFrom;
      splitter.cover(bytes);
      return;
    }
    if (nextLeaf < header.leafTo) {
      if (o.type !== 'record') throw archiveInvalid(`expected the record of leaf ${nextLeaf}, found a ${JSON.stringify(o.type)} line: records are missing`, lineNumber);
      if (o.leafIndex !== nextLeaf) throw archiveInvalid(`expected leaf ${nextLeaf}, found ${JSON.stringify(o.leafIndex)}: a record was removed, inserted or moved`, lineNumber);
      if (typeof o.leafHash !== 'string' || !HEX32.test(o.leafHash)) throw archiveInvalid('the leafHash is not an SM3 digest', lineNumber);
      const record = recordFromArchive(o.record, lineNumber);
      const leaf = accessLeafHash(record);
      if (leaf.toString('hex') !== o.leafHash) {
        throw archiveInvalid(`the record of leaf ${nextLeaf} (seq ${record.seq}, id ${record.id}) does not give its leaf hash: this record was altered`, lineNumber);
      }
      tree!.push(leaf);
      nextLeaf++;
      splitter.cover(bytes);
      await options.onRecord?.(record, leaf, nextLeaf - 1);
      return;
    }
    if (!checkpointLine) {
      const root = tree!.root()!;
      if (root.toString('hex') !== header.segmentRoot) {
        // Each line gave its own leaf hash, so a line was altered together with its hash: the root is what shows it.
        throw archiveInvalid(`the records do not give the segment root of the header: a record and its leaf hash were both altered, or records were exchanged`, lineNumber - 1);
      }
      checkpointLine = { ...readCheckpointLine(o, lineNumber), line: lineNumber };
      splitter.cover(bytes);
      return;
    }
    if (o.type !== 'manifest') throw archiveInvalid(`expected the manifest after the checkpoint, found a ${JSON.stringify(o.type)} line`, lineNumber);
    manifestLine = { value: o, line: lineNumber, contentSm3: splitter.content.copy().digest('hex'), contentBytes: splitter.contentBytes };
  };

  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      for (const bytes of splitter.push(chunk, () => lineNumber + 1)) await take(bytes);
    }
  } catch (error) {
    gunzip.destroy();
    if (isZtError(error)) throw error;
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read ${file}: ${e.code}`, { cause: error });
    throw archiveInvalid(`the file is truncated or damaged: it does not decompress (${e.message}) after line ${lineNumber}`, undefined, 'ZT_ERR_ARCHIVE_INVALID', error);
  }
  if (splitter.rest().length > 0) throw archiveInvalid('does not end with a newline: the file was cut short', lineNumber + 1);
  if (!header) throw archiveInvalid('the file is empty: it holds no archive header');
  if (nextLeaf < header.leafTo) throw archiveInvalid(`the file ends after ${nextLeaf - header.leafFrom} of its ${header.records} records: it was cut short`);
  if (!checkpointLine) throw archiveInvalid('the file ends before the checkpoint: it was cut short');
  if (!manifestLine) throw archiveInvalid('the file ends before the signed manifest: it was cut short');

  // 3. The segment is part of a signed tree head of the log.
  const { checkpoint, path } = checkpointLine;
  const reached = rootFromSegmentPath(Buffer.from(header.segmentRoot, 'hex'), header.leafFrom, header.segmentBits, checkpoint.treeSize, path);
  if (!reached || reached.toString('hex') !== checkpoint.rootHash) {
    throw archiveInvalid(`the segment's audit path does not lead to the root of checkpoint ${checkpoint.treeSize}: the segment is not part of that tree`, checkpointLine.line);
  }
  try {
    await (options.verifyCheckpoint ?? defaultCheckpointVerifier)(checkpoint, options.trust);
  } catch (error) {
    const detail = isZtError(error) ? (error.code === 'ZT_ERR_ARCHIVE_INVALID' ? error.message : `${error.message} [${error.code}]`) : (error as Error).message;
    throw archiveInvalid(`checkpoint ${checkpoint.treeSize} is not a valid signed checkpoint of the platform: ${detail}`, checkpointLine.line, 'ZT_ERR_ARCHIVE_INVALID', error);
  }

  // 4. The manifest covers the file and is the platform's.
  const m = manifestLine.value.manifest as ArchiveManifest | undefined;
  if (typeof m !== 'object' || m === null || m.schema !== ARCHIVE_MANIFEST_SCHEMA) throw archiveInvalid(`the manifest is not a ${ARCHIVE_MANIFEST_SCHEMA} manifest`, manifestLine.line);
  let payload: Buffer;
  try {
    payload = Buffer.from(canonicalJson(m), 'utf8');
  } catch (error) {
    throw archiveInvalid(`the manifest cannot be put in canonical form: ${(error as Error).message}`, manifestLine.line);
  }
  const { signer } = await verifyPlatformEnvelope(manifestLine.value.envelope, payload, options.trust, 'manifest', manifestLine.line);
  if (m.contentSm3 !== manifestLine.contentSm3 || m.contentBytes !== manifestLine.contentBytes || m.lines !== manifestLine.line - 1) {
    throw archiveInvalid('the lines before the manifest are not the ones it signed (their SM3 differs): the file was altered after sealing', manifestLine.line);
  }
  const same =
    m.leafFrom === header.leafFrom && m.leafTo === header.leafTo && m.records === header.records && m.segmentRoot === header.segmentRoot &&
    m.checkpointSize === checkpoint.treeSize && m.checkpointRoot === checkpoint.rootHash;
  if (!same) throw archiveInvalid('the manifest describes another segment or checkpoint than the file holds', manifestLine.line);

  return {
    file,
    fileSm3: fileSm3.digest(),
    header,
    checkpoint: { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, signedAt: checkpoint.signedAt },
    manifest: m,
    signer,
  };
}
