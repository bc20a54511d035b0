import { errorCatalogue, type ErrorCode, type GrpcStatusCode } from './catalogue.js';

/** The one wire shape of an error, over HTTP and (as JSON in trailing metadata) over gRPC. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  details?: unknown;
}

export interface ZtErrorOptions {
  cause?: unknown;
  /** Machine-readable details safe to show the caller (e.g. which field failed). */
  details?: unknown;
}

export class ZtError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options: ZtErrorOptions = {}) {
    const definition = errorCatalogue[code];
    super(message ?? definition.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZtError';
    this.code = code;
    this.httpStatus = definition.http;
    this.grpcStatus = definition.grpc;
    this.details = options.details;
  }

  toBody(requestId: string): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, requestId };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

export function isZtError(value: unknown): value is ZtError {
  return value instanceof ZtError;
}

/**
 * A database's data exception (SQLSTATE class 22: a NUL byte in text, a number outside a column's range, a date
 * that does not exist): a value the caller sent that no check stopped on its way to a query. The request is at
 * fault, not the server, so it is a 400 that says so, not a 500.
 */
function isDataException(value: unknown): value is Error {
  const code = value instanceof Error ? (value as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/**
 * Anything thrown becomes a ZtError; a database's data exception becomes ZT_ERR_REQUEST_INVALID, other unknown
 * failures ZT_ERR_INTERNAL, with the original kept as cause.
 */
export function toZtError(value: unknown): ZtError {
  if (value instanceof ZtError) return value;
  if (isDataException(value)) return new ZtError('ZT_ERR_REQUEST_INVALID', `a value in the request cannot be used: ${value.message}`, { cause: value });
  return new ZtError('ZT_ERR_INTERNAL', undefined, { cause: value });
}
