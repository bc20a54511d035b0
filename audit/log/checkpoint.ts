// Checkpoints (签名树头): the platform's signed statement that the access log held `treeSize` leaves with root
// `rootHash` at `signedAt`. The statement is canonical JSON, signed alone in a signed envelope (docs/envelope.md) with
// the platform's key, so anyone holding the platform CA's root and issuing certificates can check one offline, and a
// consistency proof between two checkpoints shows the log only grew between them.
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../../core/canonical-json.js';
import { isZtError, ZtError } from '../../core/errors/index.js';
import type { Queryable } from '../../core/storage/index.js';
import { decodeEnvelopeJson, envelopeToJson, signEnvelope, verifyEnvelope, type EnvelopeJson } from '../../certs/envelope/index.js';
import { HASH_SIZE } from '../../certs/signer/merkle.js';
import type { Signer } from '../../certs/signer/index.js';
import { loadSm2PublicKey, sm3 } from '../../certs/sm2/sm2.js';
import { assertCertificateUsage, parseCertificate, readUscc, validateChain, x509, type EncodedInput } from '../../certs/x509/index.js';

export const CHECKPOINT_SCHEMA = 'zhengtong/audit-checkpoint/v1';

/** A signed tree head as stored and served. */
export interface Checkpoint {
  treeSize: number;
  /** MTH of the first treeSize leaves, lower-case hex. */
  rootHash: string;
  /** RFC 3339 with milliseconds, UTC. */
  signedAt: string;
  /** USCC of the platform that signed it. */
  platform: string;
  /** The platform's signed envelope over checkpointStatement(…). */
  envelope: EnvelopeJson;
}

/** What a verifier trusts: the platform CA (root and issuing certificates), and optionally the platform's USCC. */
export interface CheckpointAnchors {
  trustAnchors: readonly (EncodedInput | x509.X509Certificate)[];
  intermediates?: readonly (EncodedInput | x509.X509Certificate)[];
  /** When given, the signer's certificate must name this USCC (else: the USCC the checkpoint names). */
  platformUscc?: string;
  /** Certificates already validated (by SM3 fingerprint), so a log of many checkpoints validates each chain once. */
  cache?: CheckpointCertificateCache;
}

export type CheckpointCertificateCache = Map<string, { notBefore: number; notAfter: number; subject: string; uscc: string | undefined; publicKey: KeyObject }>;

export interface VerifiedCheckpoint {
  checkpoint: Checkpoint;
  signer: { subject: string; uscc: string; fingerprintSm3: string };
}

/** The bytes the platform signs: canonical JSON of the schema, the tree head, the time and the platform. */
export function checkpointStatement(c: Pick<Checkpoint, 'treeSize' | 'rootHash' | 'signedAt' | 'platform'>): Buffer {
  return Buffer.from(canonicalJson({ schema: CHECKPOINT_SCHEMA, treeSize: c.treeSize, rootHash: c.rootHash, signedAt: c.signedAt, platform: c.platform }), 'utf8');
}

/** Signs a tree head with the platform's key; signedAt is now, to the millisecond. */
export async function signCheckpoint(signer: Signer, head: { treeSize: number; rootHash: Buffer; platform: string; now?: Date }): Promise<Checkpoint> {
  const signedAt = new Date(Math.floor((head.now ?? new Date()).getTime())).toISOString();
  const fields = { treeSize: head.treeSize, rootHash: head.rootHash.toString('hex'), signedAt, platform: head.platform };
  const envelope = await signEnvelope(signer, checkpointStatement(fields), { signingTime: new Date(signedAt) });
  return { ...fields, envelope: envelopeToJson(envelope) };
}

interface CheckpointRow {
  tree_size: number | string;
  root_hash: Buffer;
  signed_at: Date | string;
  platform: string;
  envelope: EnvelopeJson | string;
}

const COLUMNS = 'tree_size, root_hash, signed_at, platform, envelope';

export function checkpointFromRow(row: CheckpointRow): Checkpoint {
  return {
    treeSize: Number(row.tree_size),
    rootHash: Buffer.from(row.root_hash).toString('hex'),
    signedAt: (row.signed_at instanceof Date ? row.signed_at : new Date(row.signed_at)).toISOString(),
    platform: row.platform,
    envelope: typeof row.envelope === 'string' ? (JSON.parse(row.envelope) as EnvelopeJson) : row.envelope,
  };
}

/** Stores a checkpoint; a second one of the same size (another instance was quicker) is dropped. */
export async function storeCheckpoint(q: Queryable, c: Checkpoint): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO audit_checkpoints (tree_size, root_hash, signed_at, platform, envelope) VALUES ($1, decode($2, 'hex'), $3, $4, $5::jsonb)
     ON CONFLICT (tree_size) DO NOTHING`,
    [c.treeSize, c.rootHash, c.signedAt, c.platform, JSON.stringify(c.envelope)],
  );
  return rowCount > 0;
}

export async function latestCheckpoint(q: Queryable): Promise<Checkpoint | null> {
  const { rows } = await q.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`);
  return rows[0] ? checkpointFromRow(rows[0]) : null;
}

export async function checkpointAt(q: Queryable, treeSize: number): Promise<Checkpoint | null> {
  const { rows } = await q.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE tree_size = $1`, [treeSize]);
  return rows[0] ? checkpointFromRow(rows[0]) : null;
}

/** The smallest checkpoint covering `treeSize` leaves or more (the first that can prove leaf treeSize - 1). */
export async function checkpointCovering(q: Queryable, treeSize: number): Promise<Checkpoint | null> {
  const { rows } = await q.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1`, [treeSize]);
  return rows[0] ? checkpointFromRow(rows[0]) : null;
}

/** Checkpoints newest first, `limit` of them from below `before` (a tree size), for paging. */
export async function listCheckpoints(q: Queryable, options: { limit: number; before?: number }): Promise<Checkpoint[]> {
  const { rows } = await q.query<CheckpointRow>(
    `SELECT ${COLUMNS} FROM audit_checkpoints WHERE ($1::bigint IS NULL OR tree_size < $1) ORDER BY tree_size DESC LIMIT $2`,
    [options.before ?? null, options.limit],
  );
  return rows.map(checkpointFromRow);
}

/** Checkpoints in ascending size, one page at a time (the verifier streams them). */
export async function checkpointsAfter(q: Queryable, afterSize: number, limit: number): Promise<Checkpoint[]> {
  const { rows } = await q.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2`, [afterSize, limit]);
  return rows.map(checkpointFromRow);
}

function invalid(message: string, cause?: unknown): ZtError {
  return new ZtError('ZT_ERR_AUDIT_CHECKPOINT_INVALID', `the checkpoint does not verify: ${message}`, cause === undefined ? {} : { cause });
}

/** Reads a checkpoint from untrusted JSON (a file, a peer); ZT_ERR_AUDIT_CHECKPOINT_INVALID when it does not fit. */
export function parseCheckpoint(value: unknown): Checkpoint {
  if (typeof value !== 'object' || value === null) throw invalid('it is not an object');
  const c = value as Record<string, unknown>;
  if (!Number.isSafeInteger(c.treeSize) || (c.treeSize as number) < 0) throw invalid('treeSize is not a tree size');
  if (typeof c.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(c.rootHash)) throw invalid('rootHash is not 64 lower-case hex digits');
  if (typeof c.signedAt !== 'string' || Number.isNaN(Date.parse(c.signedAt))) throw invalid('signedAt is not a time');
  if (typeof c.platform !== 'string') throw invalid('platform is missing');
  if (typeof c.envelope !== 'object' || c.envelope === null) throw invalid('envelope is missing');
  return { treeSize: c.treeSize as number, rootHash: c.rootHash, signedAt: c.signedAt, platform: c.platform, envelope: c.envelope as EnvelopeJson };
}

/**
 * Offline check of a checkpoint: the envelope is well formed and signs exactly this statement; its certificate chains
 * to the given platform CA (valid when the checkpoint was signed) and allows signing; the signer is the platform
 * (the USCC the checkpoint names, and anchors.platformUscc when given); the signing time is the one stated.
 * Throws ZT_ERR_AUDIT_CHECKPOINT_INVALID (400) naming what failed, the original error as cause.
 */
export async function verifyCheckpoint(checkpoint: Checkpoint, anchors: CheckpointAnchors): Promise<VerifiedCheckpoint> {
  const c = parseCheckpoint(checkpoint);
  if (Buffer.from(c.rootHash, 'hex').length !== HASH_SIZE) throw invalid('rootHash is not an SM3 digest');
  const signer = await verifyPlatformStatement(c.envelope, checkpointStatement(c), { platform: c.platform, signedAt: c.signedAt, what: `tree size ${c.treeSize}, root ${c.rootHash}` }, anchors, invalid);
  return { checkpoint: c, signer };
}

/**
 * Offline check of a statement the platform signed alone in an envelope (a checkpoint, the log's re-anchor): the
 * envelope is well formed and signs exactly `statement`; its certificate chains to the platform CA (valid when it
 * was signed) and allows signing; the signer is `claimed.platform` (and anchors.platformUscc when given); the signing
 * time is `claimed.signedAt`. Failures are made by `fail`, which names what failed.
 */
export async function verifyPlatformStatement(
  envelopeJson: EnvelopeJson,
  statement: Buffer,
  claimed: { platform: string; signedAt: string; what: string },
  anchors: CheckpointAnchors,
  fail: (message: string, cause?: unknown) => ZtError,
): Promise<VerifiedCheckpoint['signer']> {
  const invalid = fail;
  const c = claimed;
  let envelope;
  try {
    envelope = decodeEnvelopeJson(envelopeJson);
  } catch (error) {
    throw invalid(`its envelope is malformed (${(error as Error).message})`, error);
  }
  // The envelope signs the statement's own signedAt (signCheckpoint passes it), so the two are one instant.
  if (envelope.signingTime.getTime() !== Date.parse(c.signedAt)) {
    throw invalid(`it says it was signed at ${c.signedAt}, its envelope at ${envelope.signingTime.toISOString()}`);
  }
  const der = envelope.signer.certificate;
  if (!der) throw invalid('its envelope carries no signer certificate');
  const fingerprint = sm3(der).toString('hex');
  const at = envelope.signingTime.getTime();
  let known = anchors.cache?.get(fingerprint);
  if (!known || at < known.notBefore || at > known.notAfter) {
    try {
      const certificate = parseCertificate(der);
      const chain = await validateChain({ certificate, trustAnchors: anchors.trustAnchors, intermediates: anchors.intermediates ?? [], at: envelope.signingTime });
      if (certificate.getExtension(x509.BasicConstraintsExtension)?.ca) throw new ZtError('ZT_ERR_CERT_USAGE', `${certificate.subject} is a CA certificate, not a signing certificate`);
      assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });
      known = {
        notBefore: Math.max(...chain.chain.map((cert) => cert.notBefore.getTime())),
        notAfter: chain.notAfter.getTime(),
        subject: certificate.subject,
        uscc: readUscc(certificate),
        publicKey: loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData)),
      };
      anchors.cache?.set(fingerprint, known);
    } catch (error) {
      throw invalid(`its signer's certificate is not trusted (${isZtError(error) ? `${error.code}: ` : ''}${(error as Error).message})`, error);
    }
  }
  const { uscc, subject } = known;
  if (uscc === undefined || uscc !== c.platform) throw invalid(`it names the platform ${c.platform}, but was signed by "${subject}"${uscc ? ` (USCC ${uscc})` : ''}`);
  if (anchors.platformUscc !== undefined && uscc !== anchors.platformUscc) throw invalid(`it was signed by ${uscc}, not by the platform ${anchors.platformUscc}`);
  try {
    await verifyEnvelope(envelope, statement, { publicKey: known.publicKey });
  } catch (error) {
    throw invalid(`its signature does not hold over ${c.what}, ${c.signedAt} (${(error as Error).message})`, error);
  }
  return { subject, uscc, fingerprintSm3: fingerprint };
}
