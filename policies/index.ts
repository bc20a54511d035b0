// The negative-list engine (负面清单): what is not shared, shared only with approval, or shared masked.
export {
  CATEGORY_TAG,
  catalogueFromJson,
  catalogueOf,
  DATA_ITEM_TYPES,
  demoCatalogue,
  isSecret,
  SECRET_CATEGORIES,
  SENSITIVITIES,
  SHARING_CLASSES,
  StaticCatalogue,
  SUBJECT_KINDS,
  type CatalogueItem,
  type CatalogueResource,
  type CatalogueView,
  type DataItemType,
  type LegalBasis,
  type Sensitivity,
  type SharingClass,
  type SubjectKind,
} from './catalogue.js';
export { compilePolicy, covers, SECRET_RULES } from './compile.js';
export type {
  ConditionalDecision,
  ConditionalGrant,
  Decision,
  DecisionRequest,
  DenyDecision,
  DenyReason,
  HeldItem,
  Outcome,
  PermitDecision,
  PermittedItem,
  RuleRef,
} from './decision.js';
export { PolicyEngine, type DecisionSink, type PolicyEngineOptions, type PolicyStatus, type ReloadResult } from './engine.js';
export { defaultPolicyDirectory, readPolicyDirectory } from './files.js';
export {
  effectOf,
  formatImpact,
  impact,
  type ChangeDirection,
  type DecisionChange,
  type DecisionEffect,
  type ImpactGroup,
  type ImpactOptions,
  type ImpactReport,
  type RecordedDecision,
} from './impact.js';
export { applyMasks, combineMasks, MASK_KINDS, MASK_TYPES, maskSpec, maskValue, type MaskKind, type MaskSpec } from './masks.js';
export { RULE_EFFECTS, type PolicyProblem, type PolicySource, type RuleEffect } from './policy-file.js';
export { CompiledPolicy, type RuleInfo } from './policy.js';
export { personCategories, SUBJECT_CATEGORIES, type SubjectCategory } from './subject.js';
export { DEMO_REQUESTERS, DEMO_SERVICE_ITEMS, residentId, seededRandom, syntheticDecisions, syntheticRequests, type SyntheticOptions } from './synthetic.js';
