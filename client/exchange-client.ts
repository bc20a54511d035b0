// The client of the real-time exchange (docs/exchange-protocol.md) for a department's system: it signs each query
// with the department's SM2 key, sends it over HTTP or gRPC, and returns the result only once the platform's
// signature, its certificate chain and the binding to this very request have been checked.
//
//   import { DepartmentKey, ExchangeClient, ExchangeError } from './client/index.js';
//
//   const client = new ExchangeClient({
//     httpUrl: 'http://127.0.0.1:8080',           // the gateway's origin; and/or
//     grpcAddress: '127.0.0.1:50051',
//     signer: DepartmentKey.fromFiles('112101000010000537.key.pem', '112101000010000537.cert.pem'), // or any Signer
//     trust: { root: readFileSync('root.pem'), issuing: readFileSync('issuing.pem') }, // the platform CA
//     platformUscc: '11210100001000088R',         // optional: the platform's own USCC (ZT_PLATFORM_USCC)
//   });
//   try {
//     const { result } = await client.query({
//       resource: '210100-GA-0001',
//       items: ['name', 'address'],
//       subject: { kind: 'person', code: '210103198503120312' },
//       purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-000123' },
//       operator: 'zhang.san',
//     }, { protocol: 'grpc', signal: AbortSignal.timeout(5000) });
//     console.log(result.items, result.withheld);
//   } catch (error) {
//     if (error instanceof ExchangeError) console.log(error.code, error.details); // a refusal: ZT_ERR_ACCESS_DENIED …
//     else throw error;                                 // ExchangeClientError: transport, or ZT_CLIENT_RESPONSE_UNVERIFIED
//   } finally {
//     await client.close();
//   }
import * as grpc from '@grpc/grpc-js';
import { envelopeFromMessage } from '../certs/envelope/index.js';
import { SM2_DEFAULT_USER_ID } from '../certs/sm2/sm2.js';
import type { Signer } from '../certs/signer/index.js';
import { parseCertificate, readUscc } from '../certs/x509/index.js';
import { DepartmentKey, type DepartmentKeyMaterial } from './department-key.js';
import { aborted, describeError, ExchangeClientError, ExchangeError, grpcFailure, readErrorBody } from './errors.js';
import {
  encodeQueryJson,
  encodeQueryRequest,
  EXCHANGE_GRPC_PATH,
  EXCHANGE_HTTP_PATH,
  exchangeTypes,
  newNonce,
  signGrpcRequest,
  signHttpRequest,
  type QueryInput,
} from './request-signing.js';
import { ResponseVerifier, type ResponseTrust, type VerifiedResult } from './response-verification.js';

export type ExchangeProtocol = 'http' | 'grpc';

export interface ExchangeClientOptions {
  /** The gateway's HTTP origin, e.g. http://127.0.0.1:8080 (the query goes to /v1/exchange/query on it). */
  httpUrl?: string;
  /** The gateway's gRPC address, host:port (insecure channel). */
  grpcAddress?: string;
  /** A Signer (certs/signer) with its certificate, or key material to sign with on this thread. */
  signer: Signer | DepartmentKeyMaterial;
  /** The platform CA that issues the platform's exchange certificate (and, optionally, its CRLs). */
  trust: Pick<ResponseTrust, 'root' | 'issuing' | 'crls' | 'maxAgeMs'>;
  /** If set, the certificate that signs a result must name this USCC. */
  platformUscc?: string;
  /** Milliseconds since 1970 for the request timestamp and certificate checks; default Date.now. */
  clock?: () => number;
  /** Default newNonce(). */
  nonce?: () => string;
  /** When query() is not told: 'http' if httpUrl is set, else 'grpc'. */
  protocol?: ExchangeProtocol;
  /** Extra gRPC channel options. */
  grpcChannelOptions?: grpc.ChannelOptions;
}

export interface QueryOptions {
  protocol?: ExchangeProtocol;
  signal?: AbortSignal;
  /** Sent as x-request-id (header or metadata); the gateway logs and returns it. */
  requestId?: string;
}

const identity = (bytes: Buffer): Buffer => bytes;
const GRPC_DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
const ERROR_BODY_EXCERPT = 200;

export class ExchangeClient {
  readonly #signer: Signer;
  readonly #ownsSigner: boolean;
  /** The USCC in the signer's certificate: the requester when a query names none. */
  readonly #requester: string | undefined;
  readonly #verifier: ResponseVerifier;
  readonly #httpUrl: URL | undefined;
  readonly #httpPath: string;
  readonly #grpcAddress: string | undefined;
  readonly #grpcChannelOptions: grpc.ChannelOptions;
  readonly #clock: () => number;
  readonly #nonce: () => string;
  readonly #protocol: ExchangeProtocol;
  #grpc: grpc.Client | undefined;
  #closed = false;

  constructor(options: ExchangeClientOptions) {
    const given = options.signer;
    const isSigner = typeof (given as Signer).sign === 'function';
    this.#signer = isSigner ? (given as Signer) : DepartmentKey.fromMaterial(given as DepartmentKeyMaterial);
    this.#ownsSigner = !isSigner;
    const certificate = this.#signer.certificate;
    if (!certificate) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer has no certificate: an exchange request carries the signing certificate');
    if (this.#signer.userId !== SM2_DEFAULT_USER_ID) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's SM2 user ID is ${JSON.stringify(this.#signer.userId)}; the exchange verifies with ${SM2_DEFAULT_USER_ID} (GM/T 0009)`);
    }
    try {
      this.#requester = readUscc(parseCertificate(certificate.der));
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's certificate cannot be read: ${(error as Error).message}`, { cause: error });
    }
    if (options.httpUrl === undefined && options.grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'give httpUrl, grpcAddress or both');
    if (options.httpUrl !== undefined) {
      try {
        this.#httpUrl = new URL(EXCHANGE_HTTP_PATH, options.httpUrl);
      } catch (error) {
        throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `httpUrl ${JSON.stringify(options.httpUrl)} is not a URL`, { cause: error });
      }
    }
    // The path is signed exactly as it goes out.
    this.#httpPath = this.#httpUrl ? this.#httpUrl.pathname + this.#httpUrl.search : EXCHANGE_HTTP_PATH;
    this.#grpcAddress = options.grpcAddress;
    this.#grpcChannelOptions = { ...GRPC_DEFAULT_CHANNEL_OPTIONS, ...options.grpcChannelOptions };
    this.#clock = options.clock ?? Date.now;
    this.#nonce = options.nonce ?? newNonce;
    this.#protocol = options.protocol ?? (this.#httpUrl ? 'http' : 'grpc');
    const trust: ResponseTrust = { ...options.trust, clock: this.#clock };
    if (options.platformUscc !== undefined) trust.platformUscc = options.platformUscc;
    this.#verifier = new ResponseVerifier(trust);
    // Parse the .proto files now rather than on the first call.
    if (this.#grpcAddress !== undefined) exchangeTypes();
  }

  /** The USCC in the signer's certificate (undefined if it names none). */
  get requester(): string | undefined {
    return this.#requester;
  }

  /**
   * Asks the exchange for one subject's data and returns the verified result. Throws ExchangeError for a refusal
   * (same code over both protocols), ExchangeClientError for anything else (ZT_CLIENT_RESPONSE_UNVERIFIED when the
   * answer does not verify).
   */
  async query(input: QueryInput, options: QueryOptions = {}): Promise<VerifiedResult> {
    if (this.#closed) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the client is closed');
    const protocol = options.protocol ?? this.#protocol;
    if (options.signal?.aborted) throw aborted(options.signal);
    return protocol === 'grpc' ? this.#queryGrpc(input, options) : this.#queryHttp(input, options);
  }

  async #queryHttp(input: QueryInput, options: QueryOptions): Promise<VerifiedResult> {
    const url = this.#httpUrl;
    if (!url) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no httpUrl was given: cannot query over HTTP');
    const body = encodeQueryJson(input, this.#requester);
    const signed = await signHttpRequest({ path: this.#httpPath, body, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...signed.headers };
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    let status: number;
    let text: string;
    let responseRequestId: string | null;
    try {
      const response = await fetch(url, { method: 'POST', headers, body, ...(options.signal ? { signal: options.signal } : {}) });
      status = response.status;
      responseRequestId = response.headers.get('x-request-id');
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw aborted(options.signal);
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `POST ${url.href} failed: ${describeError(error)}`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      json = undefined;
      if (status >= 200 && status < 300) {
        throw new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', `the exchange response is not verified: HTTP ${status} with a body that is not JSON`, { cause: error });
      }
    }
    if (status < 200 || status >= 300) {
      const refusal = readErrorBody(json);
      if (!refusal) {
        throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `POST ${url.href} answered HTTP ${status} without an exchange error body`, {
          details: { httpStatus: status, body: text.slice(0, ERROR_BODY_EXCERPT) },
        });
      }
      throw new ExchangeError({ ...refusal, requestId: refusal.requestId ?? responseRequestId ?? undefined, httpStatus: status });
    }
    const answer = json as { result?: unknown; signature?: unknown } | null;
    if (typeof answer !== 'object' || answer === null || typeof answer.result !== 'object' || answer.result === null || typeof answer.signature !== 'object' || answer.signature === null) {
      throw new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', 'the exchange response is not verified: the body is not { result, signature }');
    }
    return this.#verifier.verify(answer.result, answer.signature, signed.requestDigest);
  }

  async #queryGrpc(input: QueryInput, options: QueryOptions): Promise<VerifiedResult> {
    const client = this.#grpcClient();
    const body = encodeQueryRequest(input, this.#requester);
    const signed = await signGrpcRequest({ path: EXCHANGE_GRPC_PATH, body, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
    if (options.requestId !== undefined) signed.metadata.set('x-request-id', options.requestId);
    const bytes = await unaryCall(client, body, signed.metadata, options.signal);
    const { queryResponse } = exchangeTypes();
    let result: Uint8Array | undefined;
    let signature: ReturnType<typeof envelopeFromMessage>;
    try {
      const message = queryResponse.toObject(queryResponse.decode(bytes), { longs: String, defaults: false, arrays: true }) as { result?: Uint8Array; signature?: object };
      result = message.result;
      signature = envelopeFromMessage(message.signature ?? {});
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', `the exchange response is not verified: it is not a QueryResponse with a signature: ${describeError(error)}`, { cause: error });
    }
    return this.#verifier.verify(result ?? new Uint8Array(0), signature, signed.requestDigest);
  }

  #grpcClient(): grpc.Client {
    if (this.#grpc) return this.#grpc;
    if (this.#grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no grpcAddress was given: cannot query over gRPC');
    this.#grpc = new grpc.Client(this.#grpcAddress, grpc.credentials.createInsecure(), this.#grpcChannelOptions);
    return this.#grpc;
  }

  /** Closes the gRPC channel, and the signer if the client made it from key material. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#grpc?.close();
    if (this.#ownsSigner) await this.#signer.close();
  }
}

function unaryCall(client: grpc.Client, body: Buffer, metadata: grpc.Metadata, signal: AbortSignal | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const call = client.makeUnaryRequest(EXCHANGE_GRPC_PATH, identity, identity, body, metadata, {}, (error, response) => {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      if (error) reject(grpcFailure(EXCHANGE_GRPC_PATH, error, signal));
      else if (!response) reject(new ExchangeClientError('ZT_CLIENT_RESPONSE_UNVERIFIED', 'the exchange response is not verified: the call returned no message'));
      else resolve(response);
    });
    if (signal) {
      onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}
