// The two ways an exchange call fails, as a caller sees them. ExchangeError: the exchange answered with a refusal
// (its catalogue code, docs/errors.md), identical over HTTP and gRPC. ExchangeClientError: this client could not get
// a verified answer (the request did not go out or no answer came back, the answer did not verify, the options are
// unusable); its codes are the client's own, ZT_CLIENT_*, listed below.

import * as grpc from '@grpc/grpc-js';

/** The client's own failures (never sent by the server). */
export const clientErrorCatalogue = {
  ZT_CLIENT_CONFIG_INVALID: 'The client options cannot be used (e.g. a signer without a certificate, no httpUrl or grpcAddress for the protocol asked).',
  ZT_CLIENT_TRANSPORT_FAILED: 'The request did not reach the exchange, or what came back is not an exchange answer (connection refused or reset, a proxy page).',
  ZT_CLIENT_ABORTED: "The caller's AbortSignal ended the request.",
  ZT_CLIENT_RESPONSE_UNVERIFIED:
    "The answer is not proven to be the platform's reply to this request: its signature, the signer's certificate chain or USCC, its request digest or its form does not check out.",
} as const;

export type ClientErrorCode = keyof typeof clientErrorCatalogue;

export class ExchangeClientError extends Error {
  readonly code: ClientErrorCode;
  readonly details: unknown;

  constructor(code: ClientErrorCode, message?: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message ?? clientErrorCatalogue[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ExchangeClientError';
    this.code = code;
    this.details = options.details;
  }
}

export interface ExchangeErrorInit {
  code: string;
  message: string;
  requestId?: string | undefined;
  details?: unknown;
  /** Set when the refusal came over HTTP. */
  httpStatus?: number | undefined;
  /** Set when the refusal came over gRPC. */
  grpcStatus?: number | undefined;
  cause?: unknown;
}

/** A refusal from the exchange: `{ code, message, requestId, details }`, the same over HTTP and gRPC. */
export class ExchangeError extends Error {
  /** The catalogue code, e.g. ZT_ERR_ACCESS_DENIED (docs/errors.md). */
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: unknown;
  readonly httpStatus: number | undefined;
  readonly grpcStatus: number | undefined;

  constructor(init: ExchangeErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ExchangeError';
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.httpStatus = init.httpStatus;
    this.grpcStatus = init.grpcStatus;
  }
}

/** Reads an error body `{ code, message, requestId?, details? }`; undefined if `value` is not one. */
export function readErrorBody(value: unknown): Pick<ExchangeErrorInit, 'code' | 'message' | 'requestId' | 'details'> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const body = value as Record<string, unknown>;
  if (typeof body.code !== 'string' || body.code.length === 0 || typeof body.message !== 'string') return undefined;
  return {
    code: body.code,
    message: body.message,
    requestId: typeof body.requestId === 'string' ? body.requestId : undefined,
    details: body.details,
  };
}

/** A failed gRPC call of either client as a caller sees it: the refusal it carries, an abort, or a transport failure. */
export function grpcFailure(path: string, error: grpc.ServiceError, signal: AbortSignal | undefined): Error {
  const metadata = error.metadata ?? new grpc.Metadata();
  const trailerCode = metadata.get('zt-error-code')[0];
  const code = typeof trailerCode === 'string' ? trailerCode : undefined;
  const raw = metadata.get('zt-error-bin')[0];
  let body: ReturnType<typeof readErrorBody>;
  if (Buffer.isBuffer(raw)) {
    try {
      body = readErrorBody(JSON.parse(raw.toString('utf8')));
    } catch {
      body = undefined;
    }
  }
  if (code !== undefined || body !== undefined) {
    const requestId = body?.requestId ?? metadata.get('x-request-id')[0];
    return new ExchangeError({
      code: code ?? body!.code,
      message: body?.message ?? error.details,
      requestId: typeof requestId === 'string' ? requestId : undefined,
      details: body?.details,
      grpcStatus: error.code,
      cause: error,
    });
  }
  if (signal?.aborted && error.code === grpc.status.CANCELLED) return aborted(signal, error);
  return new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${path} failed: ${grpc.status[error.code] ?? error.code} ${error.details}`, {
    cause: error,
    details: { grpcStatus: error.code },
  });
}

export function aborted(signal: AbortSignal, cause: unknown = signal.reason): ExchangeClientError {
  return new ExchangeClientError('ZT_CLIENT_ABORTED', `the request was aborted: ${describeError(signal.reason)}`, { cause });
}

/** An error's message, with its cause's when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
