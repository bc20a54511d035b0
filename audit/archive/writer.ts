// Writes one segment's archive file (format.ts): to a temporary name beside its final one, gzip'd, fsync'd, then
// renamed and the directory fsync'd, so a crash leaves either no file or the whole file, never half of one. Every
// record is hashed again as it is written and must give the leaf the log holds for it, the leaves must give the
// segment root, and the root's path must reach the checkpoint's root: an archive that would not verify is never
// written.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { canonicalJson } from '../../core/canonical-json.js';
import { ZtError } from '../../core/errors/index.js';
import type { EnvelopeJson } from '../../certs/envelope/index.js';
import type { StoredAccessRecord } from '../access-record-row.js';
import { accessLeafHash, ACCESS_LEAF_SCHEMA } from '../log/leaf.js';
import {
  ARCHIVE_MANIFEST_SCHEMA,
  ARCHIVE_SCHEMA,
  archivedRecordJson,
  archiveFileName,
  type ArchiveCheckpointJson,
  type ArchiveHeader,
  type ArchiveManifest,
} from './format.js';
import { PerfectTreeBuilder, rootFromSegmentPath } from './segment-tree.js';

/** A record of the segment with the leaf the log holds for it. */
export interface SegmentLeaf {
  leafIndex: number;
  /** audit_log_leaves.leaf_hash. */
  leafHash: Buffer;
  record: StoredAccessRecord;
}

export interface ArchiveContent {
  /** The header without the fields the writer sets (type, schema, leafSchema). */
  header: Omit<ArchiveHeader, 'type' | 'schema' | 'leafSchema'>;
  /** The segment's leaves in order, with their records. */
  leaves: AsyncIterable<SegmentLeaf>;
  checkpoint: ArchiveCheckpointJson;
  segmentPath: readonly Buffer[];
}

/** Signs the manifest's canonical JSON with the platform key; resolves with the envelope's JSON form. */
export type ManifestSigner = (payload: Buffer) => Promise<EnvelopeJson>;

export interface WrittenArchive {
  fileName: string;
  path: string;
  /** SM3 of the file as stored (gzip'd). */
  fileSm3: Buffer;
  fileBytes: number;
  contentSm3: Buffer;
  records: number;
}

function stale(message: string): ZtError {
  return new ZtError('ZT_ERR_ARCHIVE_STATE', message);
}

async function* archiveLines(content: ArchiveContent, sign: ManifestSigner, digest: { sm3: ReturnType<typeof createHash>; bytes: number; lines: number }): AsyncGenerator<Buffer> {
  const { header } = content;
  const line = (value: unknown): Buffer => {
    const bytes = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
    digest.sm3.update(bytes);
    digest.bytes += bytes.length;
    digest.lines++;
    return bytes;
  };
  const full: ArchiveHeader = { type: 'header', schema: ARCHIVE_SCHEMA, leafSchema: ACCESS_LEAF_SCHEMA, ...header };
  yield line(full);

  const tree = new PerfectTreeBuilder(header.segmentBits);
  let expected = header.leafFrom;
  for await (const { leafIndex, leafHash, record } of content.leaves) {
    if (leafIndex !== expected) throw stale(`leaf ${expected} of segment [${header.leafFrom}, ${header.leafTo}) is missing from the log (next found: ${leafIndex}); run zhengtong audit verify`);
    const computed = accessLeafHash(record);
    if (!computed.equals(leafHash)) {
      throw stale(`record seq ${record.seq} (id ${record.id}) no longer gives its leaf ${leafIndex}: the access log was changed after it was logged; run zhengtong audit verify`);
    }
    tree.push(computed);
    expected++;
    yield line({ type: 'record', leafIndex, leafHash: computed.toString('hex'), record: archivedRecordJson(record) });
  }
  const root = tree.root();
  if (expected !== header.leafTo || !root) throw stale(`segment [${header.leafFrom}, ${header.leafTo}) has ${expected - header.leafFrom} of its ${header.leafTo - header.leafFrom} records`);
  if (root.toString('hex') !== header.segmentRoot) throw stale(`the records of segment [${header.leafFrom}, ${header.leafTo}) do not give the root the log holds for it; run zhengtong audit verify`);
  const { checkpoint } = content;
  const reached = rootFromSegmentPath(root, header.leafFrom, header.segmentBits, checkpoint.treeSize, content.segmentPath);
  if (!reached || reached.toString('hex') !== checkpoint.rootHash) {
    throw stale(`segment [${header.leafFrom}, ${header.leafTo}) is not in checkpoint ${checkpoint.treeSize}: its audit path does not reach the checkpoint's root`);
  }
  yield line({ type: 'checkpoint', checkpoint, segmentPath: content.segmentPath.map((h) => h.toString('hex')) });

  const manifest: ArchiveManifest = {
    schema: ARCHIVE_MANIFEST_SCHEMA,
    leafFrom: header.leafFrom,
    leafTo: header.leafTo,
    records: header.records,
    segmentRoot: header.segmentRoot,
    checkpointSize: checkpoint.treeSize,
    checkpointRoot: checkpoint.rootHash,
    lines: digest.lines,
    contentBytes: digest.bytes,
    contentSm3: digest.sm3.copy().digest('hex'),
  };
  const envelope = await sign(Buffer.from(canonicalJson(manifest), 'utf8'));
  // The manifest line is not part of what it covers.
  yield Buffer.from(`${JSON.stringify({ type: 'manifest', manifest, envelope })}\n`, 'utf8');
}

/** Writes the archive of one segment into `dir`; resolves once it is durably there under its final name. */
export async function writeArchiveFile(dir: string, content: ArchiveContent, sign: ManifestSigner): Promise<WrittenArchive> {
  await mkdir(dir, { recursive: true });
  const fileName = archiveFileName(content.header.leafFrom, content.header.leafTo);
  const path = join(dir, fileName);
  const temporary = join(dir, `.${fileName}.${process.pid}.tmp`);
  const digest = { sm3: createHash('sm3'), bytes: 0, lines: 0 };
  const fileSm3 = createHash('sm3');
  let fileBytes = 0;
  try {
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        fileSm3.update(chunk);
        fileBytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Readable.from(archiveLines(content, sign, digest)), createGzip({ level: 6 }), tap, createWriteStream(temporary, { flags: 'w', mode: 0o644 }));
    // fsync applies to the file, whichever descriptor asks: the bytes are on disk before the rename makes them count.
    const handle = await open(temporary, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await rename(temporary, path);
  // The rename is durable once the directory is.
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return { fileName, path, fileSm3: fileSm3.digest(), fileBytes, contentSm3: digest.sm3.digest(), records: content.header.records };
}
