// Stock conversion (存量证照转化): existing licences of one type, from CSV or JSON Lines, turned into signed
// e-licences in a resumable, idempotent streaming run (docs/licence-conversion.md).
export {
  DEFAULT_BATCH_SIZE,
  LICENCE_BATCH_CONVERTED,
  MAX_BATCH_SIZE,
  SIGN_QUEUE_PER_THREAD,
  StockConverter,
  type ConversionReport,
  type ConversionRun,
  type LicenceBatchConvertedEvent,
  type StockConverterOptions,
} from './stock-converter.js';
export { formatDuration, formatProgress, type ConversionProgress } from './progress.js';
export { RejectsFile, type RejectedRow } from './rejects.js';
export { MAX_LINE_CHARS, MAX_RECORD_LINES, parseCsvRecord, readSource, sourceFormat, surveySource, type SourceFormat, type SourceRow, type SourceSurvey } from './source.js';
export { NON_STANDARD_CHECK_FLAG, REQUIRED_STOCK_COLUMNS, serialFromLicenceNumber, STOCK_COLUMNS, StockRowReader, type StockLicence, type StockRejection } from './stock-row.js';
export { conversionReason, readConversionReason, SqlConversionStore, type ConversionCounts, type ConversionRecord } from './sql/sql-conversion-store.js';
