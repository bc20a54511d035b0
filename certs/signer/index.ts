export { signerCertificate, type SignatureAlgorithm, type Signer, type SignerCertificate } from './signer.js';
export { InProcessSm2Signer, LocalSm2Signer, type LocalSm2SignerOptions, type SignerPoolStats } from './local-sm2-signer.js';
export type { LocalSignerKeyOptions } from './signer-key.js';
export { auditPath, consistencyProof, HASH_SIZE, inclusionProof, leafHash, MAX_TREE_SIZE, merkleLevels, merkleRoot, nodeHash, rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle.js';
export {
  BatchSigner,
  encodeTreeHead,
  TREE_HEAD_LABEL,
  TREE_HEAD_SIZE,
  verifyBatchLeaf,
  verifyBatchSignature,
  type BatchSignature,
  type BatchSignerOptions,
  type BatchSignerStats,
  type VerifyBatchOptions,
} from './batch-signer.js';
