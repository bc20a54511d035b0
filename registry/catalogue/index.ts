// The data catalogue (数据目录): supply lists (供给清单), demand lists (需求清单) and the application–reply procedure.
export {
  CATALOGUE_EVENTS_TOPIC,
  CONNECTOR_KINDS,
  ITEM_TYPES,
  SENSITIVITIES,
  SHARING_CLASSES,
  SHARING_CLASS_LABELS,
  UPDATE_CYCLES,
  assertItemsKnown,
  normalisePublication,
  type Connector,
  type DataItem,
  type DataResource,
  type LegalBasis,
  type ResourcePublication,
  type SharingClass,
} from './resource.js';
export {
  DEMAND_STATES,
  TRANSITIONS,
  initialState,
  isOverdue,
  nextState,
  type Demand,
  type DemandRegistration,
  type DemandState,
  type DemandTerms,
  type DemandTransition,
  type Refusal,
} from './demand.js';
export { trustNamedActor, type TransitionAuthenticator, type TransitionEvidence, type TransitionKind, type TransitionRequest } from './authenticator.js';
export {
  isSignedEnvelope,
  pruned,
  verifySignedStep,
  type SignedStepCheck,
  type SignedStepEvidence,
  SignedTransitionAuthenticator,
  signTransition,
  TRANSITION_STATEMENT_SCHEMA,
  transitionStatement,
  type SignedTransitionOptions,
  type TransitionToSign,
} from './signed-transitions.js';
export { WorkingCalendar, chinaDate, loadWorkingCalendar, parseHolidayCalendar, CHINA_CALENDAR_FILE } from './working-days.js';
export { parseCsv, formatCsv, CsvSyntaxError } from './csv.js';
export { demandsFromCsv, demandsFromJson, demandsToCsv, resourcesFromCsv, resourcesFromJson, resourcesToCsv, type ImportBatch, type RowError } from './lists.js';
export type { DemandStore, ResourceStore, FulfilmentCounts, DepartmentFulfilment, DemandPage, ResourcePage } from './store.js';
export { SqlResourceStore } from './sql/sql-resource-store.js';
export { SqlDemandStore } from './sql/sql-demand-store.js';
export { CatalogueService, MAX_PAGE, type CatalogueServiceOptions, type DepartmentDirectory } from './catalogue-service.js';
export { DemandService, DEFAULT_REPLY_WORKING_DAYS, type ActOptions, type ImportOptions, type DemandServiceOptions, type FulfilmentReport, type NegativeListLookup } from './demand-service.js';
