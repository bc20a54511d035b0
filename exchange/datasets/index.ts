// Synthetic demo datasets for the exchange's tables (前置库): people, enterprises, social insurance and marriage
// registrations of a made-up Shenyang, generated from a seed.
export { generateDemoDatasets, DEMO_DATASET_DEFAULTS, type DemoDatasetOptions, type DemoDatasets } from './generate.js';
export { DEMO_SUBJECTS } from './demo-subjects.js';
export { PLACEHOLDER_PHOTO, type EnterpriseRow, type EnterpriseStatus, type InsuranceRow, type InsuranceStatus, type MarriageRow, type PersonRow } from './rows.js';
export { composeResidentId, composeUscc, organisationCodeCheckCharacter } from './codes.js';
export { SeededRandom, WeightedTable } from './random.js';
