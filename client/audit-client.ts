// The client of the access-log search (docs/audit-search.md) for a supervisor's or a service portal's system: search,
// export, trace, one subject's view, covert-case flags, over HTTP or gRPC with the same answers and the same refusal
// codes. Every call is a signed request (the exchange's protocol) made with the department's SM2 key.
//
//   import { AuditClient, DepartmentKey } from './client/index.js';
//
//   const audit = new AuditClient({
//     httpUrl: 'http://127.0.0.1:8080',                      // and/or grpcAddress: '127.0.0.1:50051'
//     signer: DepartmentKey.fromFiles('11210100001000096L.key.pem', '11210100001000096L.cert.pem'),
//   });
//   const page = await audit.search({ department: '11210100001000029N', from: '2026-03-02', to: '2026-03-03' });
//   for await (const chunk of audit.export({ decision: 'deny', from: '2026-03-01', to: '2026-04-01', format: 'csv' })) process.stdout.write(chunk);
//   const why = await audit.trace(page.records[0].id);  // department, rules with their legal basis, the grant
//   await audit.close();
//
// Refusals are ExchangeError with the catalogue code (ZT_ERR_AUDIT_*, docs/errors.md); this client's own failures
// ExchangeClientError.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { packageRoot } from '../core/paths.js';
import { SM2_DEFAULT_USER_ID } from '../certs/sm2/sm2.js';
import type { Signer } from '../certs/signer/index.js';
import { parseCertificate, readUscc } from '../certs/x509/index.js';
import { DepartmentKey, type DepartmentKeyMaterial } from './department-key.js';
import { aborted, describeError, ExchangeClientError, ExchangeError, grpcFailure, readErrorBody } from './errors.js';
import { newNonce, signGrpcRequest, signHttpRequest } from './request-signing.js';
import type { ExchangeProtocol } from './exchange-client.js';

export const AUDIT_GRPC_SERVICE = 'zhengtong.v1.AuditService';

export interface AuditClientOptions {
  httpUrl?: string;
  grpcAddress?: string;
  /** The supervisor's or portal's key and certificate: every call is signed. */
  signer: Signer | DepartmentKeyMaterial;
  /** When a call is not told: 'http' if httpUrl is set, else 'grpc'. */
  protocol?: ExchangeProtocol;
  /** Milliseconds since 1970, for request timestamps; default Date.now. */
  clock?: () => number;
  nonce?: () => string;
  grpcChannelOptions?: grpc.ChannelOptions;
}

export interface AuditCallOptions {
  protocol?: ExchangeProtocol;
  signal?: AbortSignal;
  requestId?: string;
}

export interface AuditFilters {
  /** The requesting department (USCC). */
  department?: string;
  operator?: string;
  /** Resident ID number or USCC. */
  subject?: string;
  resource?: string;
  decision?: 'permit' | 'deny' | 'error';
  caseNumber?: string;
  serviceItem?: string;
  /** One record by id. */
  record?: string;
  /** [from, to): ISO 8601 with offset, a date (China time), or a Date. */
  from?: string | Date;
  to?: string | Date;
}

export interface AuditSearchInput extends AuditFilters {
  /** 1 to 500, default 50. */
  limit?: number;
  cursor?: string;
}

/** A record as search returns it, the same over both protocols. */
export interface AuditRecord {
  seq: number;
  id: string;
  at: string;
  requester: string | null;
  requesterName: string | null;
  operator: string | null;
  subjectKind: string | null;
  subjectCode: string | null;
  resource: string | null;
  itemsRequested: string[];
  itemsReturned: string[];
  serviceItem: string | null;
  caseNumber: string | null;
  decision: 'permit' | 'deny' | 'error';
  ruleIds: string[];
  policyRevision: string | null;
  errorCode: string | null;
  latencyMs: number;
  requestDigest: string | null;
  responseDigest: string | null;
  certificateSm3: string | null;
  instance: string;
  protocol: string;
  /** Set when the record's case is flagged covert. */
  covert: { releaseOn: string } | null;
}

export interface AuditSearchPage {
  records: AuditRecord[];
  /** Give as `cursor` for the next page; null on the last. */
  next: string | null;
}

export interface AuditSubjectInput {
  from?: string | Date;
  to?: string | Date;
  limit?: number;
  cursor?: string;
}

export interface AuditCovertFlag {
  /** The case's department; default the signer's. */
  department?: string;
  caseNumber: string;
  /** YYYY-MM-DD, China time: the subject sees the accesses from this date. */
  releaseOn: string;
  reason: string;
}

type Msg = Record<string, unknown>;
const identity = (b: Buffer): Buffer => b;
const DECODE: protobuf.IConversionOptions = { longs: String, defaults: true, arrays: true, objects: true };
const ERROR_BODY_EXCERPT = 200;

let serviceRoot: protobuf.Root | undefined;
function auditService(): protobuf.Service {
  if (!serviceRoot) {
    const dir = join(packageRoot(), 'proto');
    const root = new protobuf.Root();
    const resolvePath = root.resolvePath.bind(root);
    root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
    root.loadSync('zhengtong/v1/audit.proto', { keepCase: false });
    root.resolveAll();
    serviceRoot = root;
  }
  return serviceRoot.lookupService(AUDIT_GRPC_SERVICE);
}

function rpc(method: string): { path: string; request: protobuf.Type; response: protobuf.Type } {
  const m = auditService().methods[method]!;
  return { path: `/${AUDIT_GRPC_SERVICE}/${method}`, request: m.resolvedRequestType!, response: m.resolvedResponseType! };
}

function time(value: string | Date | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}

const FILTER_KEYS = ['department', 'operator', 'subject', 'resource', 'decision', 'caseNumber', 'serviceItem', 'record', 'from', 'to'] as const;

function filterEntries(filters: AuditFilters): [string, string][] {
  const out: [string, string][] = [];
  for (const key of FILTER_KEYS) {
    const v = key === 'from' || key === 'to' ? time(filters[key]) : filters[key];
    if (v !== undefined && v !== '') out.push([key, String(v)]);
  }
  return out;
}

const nullable = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function recordFromMessage(m: Msg): AuditRecord {
  const at = m.at as { seconds?: string | number; nanos?: number } | null;
  const ms = Number(at?.seconds ?? 0) * 1000 + Math.floor(Number(at?.nanos ?? 0) / 1e6);
  const releaseOn = nullable(m.covertReleaseOn);
  return {
    seq: Number(m.seq),
    id: String(m.id),
    at: new Date(ms).toISOString(),
    requester: nullable(m.requester),
    requesterName: nullable(m.requesterName),
    operator: nullable(m.operator),
    subjectKind: nullable(m.subjectKind),
    subjectCode: nullable(m.subjectCode),
    resource: nullable(m.resource),
    itemsRequested: (m.itemsRequested as string[]) ?? [],
    itemsReturned: (m.itemsReturned as string[]) ?? [],
    serviceItem: nullable(m.serviceItem),
    caseNumber: nullable(m.caseNumber),
    decision: m.decision as AuditRecord['decision'],
    ruleIds: (m.ruleIds as string[]) ?? [],
    policyRevision: nullable(m.policyRevision),
    errorCode: nullable(m.errorCode),
    latencyMs: Number(m.latencyMs),
    requestDigest: nullable(m.requestDigest),
    responseDigest: nullable(m.responseDigest),
    certificateSm3: nullable(m.certificateSm3),
    instance: String(m.instance),
    protocol: String(m.protocol),
    covert: releaseOn === null ? null : { releaseOn },
  };
}

function recordFromJson(j: Msg): AuditRecord {
  const covert = j.covert as { releaseOn?: string } | null;
  return { ...(j as unknown as AuditRecord), covert: covert?.releaseOn ? { releaseOn: covert.releaseOn } : null };
}

export class AuditClient {
  readonly #signer: Signer;
  readonly #ownsSigner: boolean;
  readonly #uscc: string;
  readonly #httpUrl: URL | undefined;
  readonly #grpcAddress: string | undefined;
  readonly #grpcChannelOptions: grpc.ChannelOptions;
  readonly #clock: () => number;
  readonly #nonce: () => string;
  readonly #protocol: ExchangeProtocol;
  #grpc: grpc.Client | undefined;
  #closed = false;

  constructor(options: AuditClientOptions) {
    const given = options.signer;
    const isSigner = typeof (given as Signer).sign === 'function';
    this.#signer = isSigner ? (given as Signer) : DepartmentKey.fromMaterial(given as DepartmentKeyMaterial);
    this.#ownsSigner = !isSigner;
    const certificate = this.#signer.certificate;
    if (!certificate) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer has no certificate: every audit call carries the signing certificate');
    if (this.#signer.userId !== SM2_DEFAULT_USER_ID) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's SM2 user ID must be ${SM2_DEFAULT_USER_ID} (GM/T 0009)`);
    let uscc: string | undefined;
    try {
      uscc = readUscc(parseCertificate(certificate.der));
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's certificate cannot be read: ${(error as Error).message}`, { cause: error });
    }
    if (!uscc) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer certificate names no USCC: the audit calls name the signing department');
    this.#uscc = uscc;
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
    this.#clock = options.clock ?? Date.now;
    this.#nonce = options.nonce ?? newNonce;
    this.#protocol = options.protocol ?? (this.#httpUrl ? 'http' : 'grpc');
    if (this.#grpcAddress !== undefined) auditService();
  }

  /** The signing department. */
  get department(): string {
    return this.#uscc;
  }

  /** A page of matching records, newest first. */
  async search(input: AuditSearchInput, options: AuditCallOptions = {}): Promise<AuditSearchPage> {
    if (this.#use(options) === 'grpc') {
      const answer = await this.#grpcUnary(
        'Search',
        { requester: this.#uscc, filters: Object.fromEntries(filterEntries(input)), limit: input.limit ?? 0, cursor: input.cursor ?? '' },
        options,
      );
      return { records: ((answer.records as Msg[]) ?? []).map(recordFromMessage), next: nullable(answer.next) };
    }
    const answer = await this.#httpJson('GET', '/v1/audit/access-records', this.#query(filterEntries(input), input.limit, input.cursor), undefined, options);
    return { records: ((answer.records as Msg[]) ?? []).map(recordFromJson), next: nullable(answer.next) };
  }

  /** Every page of a search, one after another. */
  async *searchAll(input: AuditFilters & { limit?: number }, options: AuditCallOptions = {}): AsyncGenerator<AuditRecord[]> {
    let cursor: string | undefined;
    do {
      const page = await this.search({ ...input, ...(cursor ? { cursor } : {}) }, options);
      yield page.records;
      cursor = page.next ?? undefined;
    } while (cursor);
  }

  /** The export's bytes, CSV (default) or JSON Lines, as they arrive. Refused before the first chunk when too large. */
  async *export(input: AuditFilters & { format?: 'csv' | 'jsonl' }, options: AuditCallOptions = {}): AsyncGenerator<Buffer> {
    const format = input.format ?? 'csv';
    if (this.#use(options) === 'grpc') {
      const { path, request, response } = rpc('Export');
      const body = Buffer.from(request.encode(request.fromObject({ requester: this.#uscc, filters: Object.fromEntries(filterEntries(input)), format })).finish());
      const signed = await signGrpcRequest({ path, body, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
      if (options.requestId !== undefined) signed.metadata.set('x-request-id', options.requestId);
      const stream = this.#grpcClient().makeServerStreamRequest(path, identity, identity, body, signed.metadata, {});
      const onAbort = (): void => stream.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const message = response.toObject(response.decode(chunk), DECODE) as Msg;
          yield Buffer.from(message.data as Uint8Array);
        }
      } catch (error) {
        if ((error as grpc.ServiceError).code !== undefined && (error as grpc.ServiceError).metadata !== undefined) throw grpcFailure(path, error as grpc.ServiceError, options.signal);
        if (options.signal?.aborted) throw aborted(options.signal);
        throw error;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        stream.cancel();
      }
      return;
    }
    const path = this.#query([...filterEntries(input), ['format', format]]);
    const response = await this.#httpFetch('GET', '/v1/audit/access-records/export', path, undefined, options);
    if (!response.body) return;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) yield Buffer.from(chunk);
  }

  /** One record and what explains it: department, resource, policy revision and rules (legal basis), grant, covert flag. */
  async trace(id: string, options: AuditCallOptions = {}): Promise<Msg> {
    if (this.#use(options) === 'grpc') return this.#grpcJson('Trace', { requester: this.#uscc, id }, options);
    return this.#httpJson('GET', `/v1/audit/access-records/${encodeURIComponent(id)}`, this.#query([]), undefined, options);
  }

  /** Who read this subject's data (a portal: covert cases hidden until released; a supervisor: all, marked covert). */
  async subjectAccesses(code: string, input: AuditSubjectInput = {}, options: AuditCallOptions = {}): Promise<{ subject: string; accesses: Msg[]; next: string | null }> {
    const from = time(input.from);
    const to = time(input.to);
    let answer: Msg;
    if (this.#use(options) === 'grpc') {
      answer = await this.#grpcJson('SubjectAccesses', { requester: this.#uscc, code, from: from ?? '', to: to ?? '', limit: input.limit ?? 0, cursor: input.cursor ?? '' }, options);
    } else {
      const entries: [string, string][] = [];
      if (from) entries.push(['from', from]);
      if (to) entries.push(['to', to]);
      answer = await this.#httpJson('GET', `/v1/audit/subjects/${encodeURIComponent(code)}/accesses`, this.#query(entries, input.limit, input.cursor), undefined, options);
    }
    return { subject: String(answer.subject), accesses: (answer.accesses as Msg[]) ?? [], next: nullable(answer.next) };
  }

  async flagCovert(flag: AuditCovertFlag, options: AuditCallOptions = {}): Promise<Msg> {
    const fields = { requester: this.#uscc, ...(flag.department ? { department: flag.department } : {}), caseNumber: flag.caseNumber, releaseOn: flag.releaseOn, reason: flag.reason };
    if (this.#use(options) === 'grpc') return this.#grpcJson('FlagCovertCase', fields, options);
    return this.#httpJson('POST', '/v1/audit/covert-cases', '', Buffer.from(JSON.stringify(fields), 'utf8'), options);
  }

  async liftCovert(id: string, reason?: string, options: AuditCallOptions = {}): Promise<Msg> {
    const fields = { requester: this.#uscc, ...(reason ? { reason } : {}) };
    if (this.#use(options) === 'grpc') return this.#grpcJson('LiftCovertCase', { ...fields, id }, options);
    return this.#httpJson('POST', `/v1/audit/covert-cases/${encodeURIComponent(id)}/lift`, '', Buffer.from(JSON.stringify(fields), 'utf8'), options);
  }

  async listCovert(input: { department?: string; all?: boolean; limit?: number } = {}, options: AuditCallOptions = {}): Promise<Msg[]> {
    let answer: Msg;
    if (this.#use(options) === 'grpc') {
      answer = await this.#grpcJson('ListCovertCases', { requester: this.#uscc, department: input.department ?? '', all: input.all ?? false, limit: input.limit ?? 0 }, options);
    } else {
      const entries: [string, string][] = [];
      if (input.department) entries.push(['department', input.department]);
      if (input.all) entries.push(['all', 'true']);
      if (input.limit) entries.push(['limit', String(input.limit)]);
      answer = await this.#httpJson('GET', '/v1/audit/covert-cases', this.#query(entries), undefined, options);
    }
    return (answer.cases as Msg[]) ?? [];
  }

  // ---- transport ----

  #use(options: AuditCallOptions): ExchangeProtocol {
    if (this.#closed) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the client is closed');
    if (options.signal?.aborted) throw aborted(options.signal);
    return options.protocol ?? this.#protocol;
  }

  /** The query string (with the requester first), '?…'. */
  #query(entries: [string, string][], limit?: number, cursor?: string): string {
    const params = new URLSearchParams([['requester', this.#uscc], ...entries]);
    if (limit !== undefined) params.set('limit', String(limit));
    if (cursor !== undefined) params.set('cursor', cursor);
    return `?${params.toString()}`;
  }

  async #httpFetch(method: 'GET' | 'POST', path: string, search: string, body: Buffer | undefined, options: AuditCallOptions): Promise<Response> {
    if (!this.#httpUrl) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no httpUrl was given: cannot call the audit API over HTTP');
    const url = new URL(path + search, this.#httpUrl);
    const signed = await signHttpRequest({
      method,
      path: url.pathname + url.search,
      body: body ?? Buffer.alloc(0),
      signer: this.#signer,
      timestamp: new Date(this.#clock()).toISOString(),
      nonce: this.#nonce(),
    });
    const headers: Record<string, string> = { ...signed.headers };
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

  async #httpJson(method: 'GET' | 'POST', path: string, search: string, body: Buffer | undefined, options: AuditCallOptions): Promise<Msg> {
    const response = await this.#httpFetch(method, path, search, body, options);
    const text = await response.text();
    try {
      const json = JSON.parse(text) as unknown;
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Msg;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${path} answered with a body that is not JSON`, { cause: error });
    }
    throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} ${path} answered with JSON that is not an object`);
  }

  async #grpcUnary(method: string, fields: Msg, options: AuditCallOptions): Promise<Msg> {
    const { path, request, response } = rpc(method);
    let body: Buffer;
    try {
      body = Buffer.from(request.encode(request.fromObject(fields)).finish());
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the ${request.name} cannot be encoded: ${describeError(error)}`, { cause: error });
    }
    const signed = await signGrpcRequest({ path, body, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
    if (options.requestId !== undefined) signed.metadata.set('x-request-id', options.requestId);
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const signal = options.signal;
      let onAbort: (() => void) | undefined;
      const call = this.#grpcClient().makeUnaryRequest(path, identity, identity, body, signed.metadata, {}, (error, answer) => {
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
      return response.toObject(response.decode(bytes), DECODE) as Msg;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `the answer is not a ${response.name}: ${describeError(error)}`, { cause: error });
    }
  }

  async #grpcJson(method: string, fields: Msg, options: AuditCallOptions): Promise<Msg> {
    const answer = await this.#grpcUnary(method, fields, options);
    try {
      return JSON.parse(Buffer.from(answer.json as Uint8Array).toString('utf8')) as Msg;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} answered with JSON that does not parse`, { cause: error });
    }
  }

  #grpcClient(): grpc.Client {
    if (this.#grpc) return this.#grpc;
    if (this.#grpcAddress === undefined) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no grpcAddress was given: cannot call the audit API over gRPC');
    this.#grpc = new grpc.Client(this.#grpcAddress, grpc.credentials.createInsecure(), this.#grpcChannelOptions);
    return this.#grpc;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#grpc?.close();
    if (this.#ownsSigner) await this.#signer.close();
  }
}
