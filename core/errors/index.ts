export { errorCatalogue, GrpcStatus, type ErrorCode, type ErrorDefinition, type GrpcStatusCode } from './catalogue.js';
export { ZtError, isZtError, toZtError, type ErrorBody, type ZtErrorOptions } from './zt-error.js';
