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

/** Anything thrown becomes a ZtError; unknown failures become ZT_ERR_INTERNAL with the original kept as cause. */
export function toZtError(value: unknown): ZtError {
  if (value instanceof ZtError) return value;
  return new ZtError('ZT_ERR_INTERNAL', undefined, { cause: value });
}
