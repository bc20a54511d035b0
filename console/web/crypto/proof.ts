// Checking an access record's inclusion proof in the page (docs/audit-log.md, "Checking a proof by hand"):
// 1. the leaf bytes hash to the leaf hash the server states; 2. the audit path leads from it to a root;
// 3. that root is the checkpoint's; 4. the checkpoint's statement (canonical JSON, audit/log/checkpoint.ts) is what
// its envelope signs, at the time it states; 5. the SM2 signature verifies with the platform certificate's key.
// 6. with the CA certificates, that certificate chains to the platform root: each signed (SM2 over the TBS, default
// user ID) by the next and named by it as issuer, and the root self-signed. The root's SM3 fingerprint is shown, for
// comparing with the one the platform publishes. Revocation (CRLs) is left to `zhengtong audit verify`.
import { canonicalJson } from '../../../core/canonical-json.js';
import { base64ToBytes, bytesToHex, equalBytes, hexToBytes, utf8 } from './bytes.js';
import { verifyEnvelope, type EnvelopeJson } from './envelope.js';
import { readCertificate } from './keys.js';
import { children, readDer } from './asn1.js';
import { sm2Verify, sm3 } from './sm.js';
import { leafHash, rootFromInclusionProof } from './merkle.js';

export const CHECKPOINT_SCHEMA = 'zhengtong/audit-checkpoint/v1';

export interface CheckpointJson {
  treeSize: number;
  rootHash: string;
  signedAt: string;
  platform: string;
  envelope: EnvelopeJson;
}

export interface ProofAnswer {
  recordId?: string;
  leafIndex: number;
  leafHash?: string;
  /** The leaf bytes: base64 (console API) or the canonical JSON text itself (/v1 answer). */
  leaf?: string;
  treeSize: number;
  proof: string[];
  checkpoint: CheckpointJson;
  platformCertificatePem?: string;
}

export function checkpointStatement(c: Pick<CheckpointJson, 'treeSize' | 'rootHash' | 'signedAt' | 'platform'>): Uint8Array {
  return utf8(canonicalJson({ schema: CHECKPOINT_SCHEMA, treeSize: c.treeSize, rootHash: c.rootHash, signedAt: c.signedAt, platform: c.platform }));
}

export type StepName = 'leaf' | 'path' | 'root' | 'statement' | 'signature' | 'chain';

export interface ProofStep {
  step: StepName;
  ok: boolean;
  detail: string;
}

export interface ProofReport {
  ok: boolean;
  steps: ProofStep[];
  computedLeafHash: string | null;
  computedRoot: string | null;
  signer: Record<string, string> | null;
}

/** The leaf bytes from either form the servers give (base64 in the console API, the JSON text in /v1). */
export function leafBytes(leaf: string): Uint8Array {
  const t = leaf.trim();
  return t.startsWith('{') ? utf8(leaf) : base64ToBytes(leaf);
}

/** The parts of a certificate a chain check reads: the TBS bytes, the signature, the issuer and subject names. */
function certificateParts(der: Uint8Array): { tbs: Uint8Array; signature: Uint8Array; issuer: Uint8Array; subject: Uint8Array } {
  const [tbs, , signature] = children(readDer(der));
  const fields = children(tbs!);
  const at = fields[0]!.tag === 0xa0 ? 1 : 0;
  // BIT STRING: an unused-bits byte, then the DER SEQUENCE of r and s.
  return { tbs: tbs!.raw, signature: signature!.value.subarray(1), issuer: fields[at + 2]!.raw, subject: fields[at + 4]!.raw };
}

/** Whether `child` names `issuer` as its issuer and carries its SM2 signature (GM/T 0015: default user ID). */
export function issuedBy(child: Uint8Array, issuer: Uint8Array): boolean {
  const c = certificateParts(child);
  const i = certificateParts(issuer);
  return equalBytes(c.issuer, i.subject) && sm2Verify(c.tbs, c.signature, readCertificate(issuer).publicKey);
}

/** The platform CA certificates the signer's certificate is checked against (PEM texts, from /v1/ca/*.pem). */
export interface CaCertificates {
  issuing: string;
  root: string;
}

/** Runs every check and reports each; ok only when all hold. */
/** `platformCertificate`: PEM text or DER bytes of the platform's certificate; `ca`: the chain to check it against. */
export function verifyInclusionInPage(answer: ProofAnswer, platformCertificate: string | Uint8Array, ca?: CaCertificates): ProofReport {
  const steps: ProofStep[] = [];
  const cp = answer.checkpoint;
  let leaf: Uint8Array | null = null;
  if (answer.leaf !== undefined) {
    leaf = leafHash(leafBytes(answer.leaf));
    const stated = answer.leafHash;
    const ok = stated === undefined || stated === bytesToHex(leaf);
    steps.push({ step: 'leaf', ok, detail: `SM3(0x00 ‖ leaf) = ${bytesToHex(leaf)}${ok ? '' : ` ≠ ${stated}`}` });
  } else if (answer.leafHash) {
    leaf = hexToBytes(answer.leafHash);
    steps.push({ step: 'leaf', ok: true, detail: `leaf hash as given (no leaf bytes): ${answer.leafHash}` });
  } else steps.push({ step: 'leaf', ok: false, detail: 'no leaf' });
  const root = leaf ? rootFromInclusionProof(leaf, answer.leafIndex, cp.treeSize, answer.proof.map(hexToBytes)) : undefined;
  steps.push({ step: 'path', ok: !!root, detail: root ? `${answer.proof.length} sibling hashes, leaf ${answer.leafIndex} of ${cp.treeSize} → ${bytesToHex(root)}` : 'the audit path does not fit the leaf index and tree size' });
  const rootOk = !!root && equalBytes(root, hexToBytes(cp.rootHash));
  steps.push({ step: 'root', ok: rootOk, detail: `checkpoint root ${cp.rootHash}` });
  const statement = checkpointStatement(cp);
  const timeOk = Date.parse(cp.envelope.signingTime) === Date.parse(cp.signedAt);
  steps.push({ step: 'statement', ok: timeOk, detail: new TextDecoder().decode(statement) });
  let signer: Record<string, string> | null = null;
  let sigOk = false;
  let detail: string;
  try {
    const cert = readCertificate(platformCertificate);
    signer = cert.subject;
    const inEnvelope = cp.envelope.signer.certificate;
    const same = inEnvelope === undefined || equalBytes(base64ToBytes(inEnvelope), cert.der);
    const check = verifyEnvelope(cp.envelope, statement, cert.publicKey);
    sigOk = same && check.ok;
    detail = !same ? 'the envelope names another certificate than the platform’s' : check.ok ? `SM2 (user ID ${cp.envelope.userId}) with the key of ${cert.subject.CN ?? ''}` : check.message;
  } catch (error) {
    detail = (error as Error).message;
  }
  steps.push({ step: 'signature', ok: sigOk, detail });
  if (ca) {
    let chainOk = false;
    let chainDetail: string;
    try {
      const leafDer = readCertificate(platformCertificate).der;
      const issuingDer = readCertificate(ca.issuing).der;
      const rootDer = readCertificate(ca.root).der;
      const links = [issuedBy(leafDer, issuingDer), issuedBy(issuingDer, rootDer), issuedBy(rootDer, rootDer)];
      chainOk = links.every(Boolean);
      const fingerprint = bytesToHex(sm3(rootDer));
      chainDetail = chainOk
        ? `platform certificate ← issuing CA ← root CA (SM3 ${fingerprint})`
        : `the chain breaks at ${['the platform certificate', 'the issuing CA', 'the root CA'][links.indexOf(false)]} (root SM3 ${fingerprint})`;
    } catch (error) {
      chainDetail = (error as Error).message;
    }
    steps.push({ step: 'chain', ok: chainOk, detail: chainDetail });
  }
  return { ok: steps.every((s) => s.ok), steps, computedLeafHash: leaf ? bytesToHex(leaf) : null, computedRoot: root ? bytesToHex(root) : null, signer };
}
