export { DEMO_DEPARTMENTS } from './departments.js';
export { DEMO_DEMANDS, DEMO_RESOURCES, seedDemoCatalogue, type CatalogueSeedReport, type DemoDemand } from './catalogue.js';
export { seedDemoData, type SeedOptions, type SeedReport } from './seed.js';
