// Supplier extracts into the exchange's tables (前置库): checking, loading, reading files, and the demo datasets.
export { ExtractValidator, UnreadableRow, UPDATED_AT_FIELD, type ExtractItem, type ExtractRow, type ExtractRowError, type ExtractSpec, type SubjectKind, type ValidRow } from './extract.js';
export { loadExtract, type ExtractLoad, type ExtractReport } from './load.js';
export { parseCsvExtract, parseJsonlExtract, streamJsonlExtract, type ParsedExtract, type StreamedExtract } from './parse.js';
export { seedDemoDatasets, DEMO_DATASET_RESOURCES, type DemoDatasetSeedOptions, type DemoDatasetSeedReport } from './seed-demo.js';
