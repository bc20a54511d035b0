// The tamper-evident access log (防篡改访问日志): an SM3 Merkle log over the access records, checkpoints signed by the
// platform key, inclusion and consistency proofs from stored nodes, and the verifier (docs/audit-log.md).
export { ACCESS_LEAF_SCHEMA, accessLeafBytes, accessLeafBytesFast, accessLeafHash, accessLeafHashFast, leafLatency } from './leaf.js';
export { alignedPieces, consistencyProofAt, fetchNodes, foldPieces, inclusionProofAt, rootAt, subtreeHash, type NodeKey } from './tree.js';
export {
  CHECKPOINT_SCHEMA,
  checkpointAt,
  checkpointCovering,
  checkpointFromRow,
  checkpointsAfter,
  checkpointStatement,
  latestCheckpoint,
  listCheckpoints,
  parseCheckpoint,
  signCheckpoint,
  storeCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
  type CheckpointAnchors,
  type CheckpointCertificateCache,
  type VerifiedCheckpoint,
} from './checkpoint.js';
export { sequenceBatch, type SequenceReport, type SequencerOptions } from './sequencer.js';
export { AUDIT_LOG_LOCK, AuditLogService, MAX_CHECKPOINT_PAGE, type AuditLogServiceOptions, type ConsistencyAnswer, type InclusionAnswer, type SequenceRun } from './service.js';
export { verifyLog, type LogProblem, type LogProblemKind, type LogVerification, type VerifyLogOptions } from './verify.js';
