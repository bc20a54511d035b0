// The electronic archive (电子档案) of the access log: sealed segments in signed, offline-verifiable files
// (docs/audit-archive.md).
export {
  ARCHIVE_MANIFEST_SCHEMA,
  ARCHIVE_SCHEMA,
  archiveFileName,
  type ArchiveCheckpointJson,
  type ArchiveHeader,
  type ArchiveManifest,
  type ArchivedRecordJson,
} from './format.js';
export { PerfectTreeBuilder, rootFromSegmentPath } from './segment-tree.js';
export { writeArchiveFile, type ArchiveContent, type ManifestSigner, type SegmentLeaf, type WrittenArchive } from './writer.js';
export { verifyArchiveFile, verifyPlatformEnvelope, type ArchiveTrust, type ArchiveVerification, type VerifyArchiveOptions } from './verify.js';
export {
  ARCHIVE_LOCK,
  AuditArchive,
  type ArchivedSegment,
  type AuditArchiveOptions,
  type RestoreReport,
  type SealPlan,
  type SealReport,
  type SegmentState,
} from './archive-service.js';
