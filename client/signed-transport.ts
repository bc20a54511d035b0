// The transport of the clients whose every call is a signed request from one department (the audit clients): the
// signer and the USCC its certificate names, the HTTP origin and the gRPC channel, and one way to sign, send and map
// a refusal to ExchangeError, over either protocol.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { SM2_DEFAULT_USER_ID } from '../certs/sm2/sm2.js';
import type { Signer } from '../certs/signer/index.js';
import { parseCertificate, readUscc } from '../certs/x509/index.js';
import { DepartmentKey, type DepartmentKeyMaterial } from './department-key.js';
import { aborted, describeError, ExchangeClientError, ExchangeError, grpcFailure, readErrorBody } from './errors.js';
import type { ExchangeProtocol } from './exchange-client.js';
import { newNonce, signGrpcRequest, signHttpRequest } from './request-signing.js';

export interface SignedTransportOptions {
  httpUrl?: string;
  grpcAddress?: string;
  /** The department's key and certificate (a Signer, or key material to sign with on this thread). */
  signer: Signer | DepartmentKeyMaterial;
  /** When a call is not told: 'http' if httpUrl is set, else 'grpc'. */
  protocol?: ExchangeProtocol;
  /** Milliseconds since 1970, for request timestamps; default Date.now. */
  clock?: () => number;
  nonce?: () => string;
  grpcChannelOptions?: grpc.ChannelOptions;
}

export interface SignedCallOptions {
  protocol?: ExchangeProtocol;
  signal?: AbortSignal;
  /** Sent as x-request-id (header or metadata). */
  requestId?: string;
  /** Filled in once the request is signed: its SM3 digest, for a caller that checks an answer is bound to it. */
  sent?: { requestDigest?: Buffer };
}

export type Message = Record<string, unknown>;

const identity = (bytes: Buffer): Buffer => bytes;
const ERROR_BODY_EXCERPT = 200;

export class SignedTransport {
  /** The USCC the calls are signed as (from the signer's certificate). */
  readonly department: string;
  readonly #signer: Signer;
  readonly #ownsSigner: boolean;
  readonly #httpUrl: URL | undefined;
  readonly #grpcAddress: string | undefined;
  readonly #grpcChannelOptions: grpc.ChannelOptions;
  readonly #protocol: ExchangeProtocol;
  readonly #clock: () => number;
  readonly #nonce: () => string;
  #grpc: grpc.Client | undefined;
  #closed = false;

  /** `api` names what is called, for messages ("the audit API"). */
  constructor(
    options: SignedTransportOptions,
    private readonly api: string,
  ) {
    const given = options.signer;
    const isSigner = typeof (given as Signer)?.sign === 'function';
    this.#signer = isSigner ? (given as Signer) : DepartmentKey.fromMaterial(given as DepartmentKeyMaterial);
    this.#ownsSigner = !isSigner;
    const certificate = this.#signer.certificate;
    if (!certificate) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer has no certificate: every call to ${api} carries the signing certificate`);
    if (this.#signer.userId !== SM2_DEFAULT_USER_ID) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's SM2 user ID must be ${SM2_DEFAULT_USER_ID} (GM/T 0009)`);
    let uscc: string | undefined;
    try {
      uscc = readUscc(parseCertificate(certificate.der));
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's certificate cannot be read: ${(error as Error).message}`, { cause: error });
    }
    if (!uscc) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's certificate names no USCC: calls to ${api} name the signing department`);
    this.department = uscc;
    if (options.httpUrl === undefined && options.grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'give httpUrl, grpcAddress or both');
    if (options.httpUrl !== undefined) {
      try {
        this.#httpUrl = new URL(options.httpUrl);
      } catch (error) {
        throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `httpUrl ${JSON.stringify(options.httpUrl)} is not a URL`, { cause: error });
      }
    }
    this.#grpcAddress = options.grpcAddress;
    this.#grpcChannelOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024, ...options.grpcChannelOptions };
    this.#protocol = options.protocol ?? (this.#httpUrl ? 'http' : 'grpc');
    this.#clock = options.clock ?? Date.now;
    this.#nonce = options.nonce ?? newNonce;
  }

  /** The protocol of a call; refuses a closed client or an aborted signal. */
  use(options: SignedCallOptions): ExchangeProtocol {
    if (this.#closed) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the client is closed');
    if (options.signal?.aborted) throw aborted(options.signal);
    return options.protocol ?? this.#protocol;
  }

  /** A signed HTTP request; resolves with a 2xx response, throws ExchangeError with the gateway's code otherwise. */
  async httpFetch(method: 'GET' | 'POST', pathAndQuery: string, body: Buffer | undefined, options: SignedCallOptions): Promise<Response> {
    if (!this.#httpUrl) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `no httpUrl was given: cannot call ${this.api} over HTTP`);
    const url = new URL(pathAndQuery, this.#httpUrl);
    const signed = await signHttpRequest({
      method,
      path: url.pathname + url.search,
      body: body ?? Buffer.alloc(0),
      signer: this.#signer,
      timestamp: new Date(this.#clock()).toISOString(),
      nonce: this.#nonce(),
    });
    if (options.sent) options.sent.requestDigest = signed.requestDigest;
    const headers: Record<string, string> = { accept: 'application/json', ...signed.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (options.signal?.aborted) throw aborted(options.signal);
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${url.href} failed: ${describeError(error)}`, { cause: error });
    }
    if (response.status >= 200 && response.status < 300) return response;
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const refusal = readErrorBody(json);
    if (!refusal) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${url.href} answered HTTP ${response.status} without an error body`, {
        details: { httpStatus: response.status, body: text.slice(0, ERROR_BODY_EXCERPT) },
      });
    }
    throw new ExchangeError({ ...refusal, requestId: refusal.requestId ?? response.headers.get('x-request-id') ?? undefined, httpStatus: response.status });
  }

  /** A signed HTTP request whose answer is a JSON object. */
  async httpJson(method: 'GET' | 'POST', pathAndQuery: string, body: Buffer | undefined, options: SignedCallOptions): Promise<Message> {
    const response = await this.httpFetch(method, pathAndQuery, body, options);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${pathAndQuery} answered with a body that is not JSON`, { cause: error });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${pathAndQuery} answered with JSON that is not an object`);
    }
    return json as Message;
  }

  /** Encodes and signs a gRPC request message; the metadata carries the signature. */
  async grpcRequest(path: string, request: protobuf.Type, fields: Message, options: SignedCallOptions): Promise<{ body: Buffer; metadata: grpc.Metadata }> {
    let body: Buffer;
    try {
      body = Buffer.from(request.encode(request.fromObject(fields)).finish());
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the ${request.name} cannot be encoded: ${describeError(error)}`, { cause: error });
    }
    const { metadata, requestDigest } = await signGrpcRequest({ path, body, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
    if (options.sent) options.sent.requestDigest = requestDigest;
    if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
    return { body, metadata };
  }

  /** A signed unary gRPC call, decoded with `decode`. */
  async grpcUnary(path: string, request: protobuf.Type, response: protobuf.Type, fields: Message, options: SignedCallOptions, decode: protobuf.IConversionOptions): Promise<Message> {
    const { body, metadata } = await this.grpcRequest(path, request, fields, options);
    const signal = options.signal;
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const call = this.grpcClient().makeUnaryRequest(path, identity, identity, body, metadata, {}, (error, answer) => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        if (error) reject(grpcFailure(path, error, signal));
        else if (!answer) reject(new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${path} returned no message`));
        else resolve(answer);
      });
      if (signal) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      return response.toObject(response.decode(bytes), decode) as Message;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `the answer is not a ${response.name}: ${describeError(error)}`, { cause: error });
    }
  }

  /** The gRPC channel, opened on first use. */
  grpcClient(): grpc.Client {
    if (this.#grpc) return this.#grpc;
    if (this.#grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `no grpcAddress was given: cannot call ${this.api} over gRPC`);
    this.#grpc = new grpc.Client(this.#grpcAddress, grpc.credentials.createInsecure(), this.#grpcChannelOptions);
    return this.#grpc;
  }

  get hasGrpc(): boolean {
    return this.#grpcAddress !== undefined;
  }

  /** Closes the gRPC channel, and the signer if it was made from key material. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#grpc?.close();
    if (this.#ownsSigner) await this.#signer.close();
  }
}

export { identity as passBytes };
