export { DEMO_DEPARTMENTS } from './departments.js';
export { seedDemoData, type SeedReport } from './seed.js';
