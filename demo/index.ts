export { DEMO_DEPARTMENTS } from './departments.js';
export { DEMO_DEMANDS, DEMO_RESOURCES, seedDemoCatalogue, type CatalogueSeedReport, type DemoDemand } from './catalogue.js';
export { demoSeeded, seedDemoData, type SeedOptions, type SeedReport } from './seed.js';
export { DEMO_CA_ORGANISATION, demoKeyFiles, demoKeysDirectory, demoRootKeyDirectory, DemoSigners, ensureDemoCa, type DemoKeyFiles } from './keys.js';
export { DEMO_LICENCE_TYPES, DEMO_LICENCES, seedDemoLicences, type LicenceSeedReport } from './licences.js';
