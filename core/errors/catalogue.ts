// Every error zhengtong reports, with its stable code, HTTP status and gRPC status.
// docs/errors.md lists the same codes; a test keeps the two in step.

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), kept here so core imports no gRPC library. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export interface ErrorDefinition {
  readonly http: number;
  readonly grpc: GrpcStatusCode;
  /** Default message; callers may give a more specific one. */
  readonly message: string;
}

function def(http: number, grpc: GrpcStatusCode, message: string): ErrorDefinition {
  return { http, grpc, message };
}

export const errorCatalogue = {
  // Requests that are malformed or do not fit a schema.
  ZT_ERR_REQUEST_MALFORMED_JSON: def(400, GrpcStatus.INVALID_ARGUMENT, 'The request body is not valid JSON.'),
  ZT_ERR_REQUEST_MALFORMED_PROTOBUF: def(400, GrpcStatus.INVALID_ARGUMENT, 'The request message is not valid protobuf.'),
  ZT_ERR_REQUEST_INVALID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The request does not match the schema of this operation.'),
  ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: def(415, GrpcStatus.INVALID_ARGUMENT, 'The request content type is not supported.'),
  ZT_ERR_REQUEST_TOO_LARGE: def(413, GrpcStatus.RESOURCE_EXHAUSTED, 'The request body exceeds the configured limit.'),
  ZT_ERR_ROUTE_NOT_FOUND: def(404, GrpcStatus.UNIMPLEMENTED, 'No such route.'),
  // Identifiers.
  ZT_ERR_ID_INVALID_USCC: def(400, GrpcStatus.INVALID_ARGUMENT, 'The unified social credit code is malformed or its check character is wrong.'),
  ZT_ERR_ID_INVALID_RESIDENT_ID: def(400, GrpcStatus.INVALID_ARGUMENT, 'The resident ID number is malformed or its check character is wrong.'),
  // Domain records.
  ZT_ERR_DEPARTMENT_NOT_FOUND: def(404, GrpcStatus.NOT_FOUND, 'No department has this unified social credit code.'),
  ZT_ERR_DEPARTMENT_EXISTS: def(409, GrpcStatus.ALREADY_EXISTS, 'A department with this unified social credit code is already registered.'),
  // Service state.
  ZT_ERR_SHUTTING_DOWN: def(503, GrpcStatus.UNAVAILABLE, 'The instance is shutting down; retry on another instance.'),
  ZT_ERR_STORAGE_UNAVAILABLE: def(503, GrpcStatus.UNAVAILABLE, 'The database is not reachable.'),
  ZT_ERR_EVENTS_UNAVAILABLE: def(503, GrpcStatus.UNAVAILABLE, 'The event bus is not reachable or did not confirm delivery.'),
  ZT_ERR_STORAGE_MIGRATION: def(500, GrpcStatus.FAILED_PRECONDITION, 'Database migrations could not be applied.'),
  ZT_ERR_INTERNAL: def(500, GrpcStatus.INTERNAL, 'An internal error occurred; the request id identifies it in the logs.'),
  // Start-up.
  ZT_ERR_CONFIG_INVALID: def(500, GrpcStatus.FAILED_PRECONDITION, 'The configuration is invalid.'),
  ZT_ERR_PORT_IN_USE: def(500, GrpcStatus.FAILED_PRECONDITION, 'A port the service needs is already in use.'),
  ZT_ERR_DATA_DIR_LOCKED: def(500, GrpcStatus.FAILED_PRECONDITION, 'The embedded database directory is in use by another process.'),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalogue;
