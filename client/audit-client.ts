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
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { packageRoot } from '../core/paths.js';
import { aborted, ExchangeClientError, grpcFailure } from './errors.js';
import { passBytes, SignedTransport, type SignedCallOptions, type SignedTransportOptions } from './signed-transport.js';

export const AUDIT_GRPC_SERVICE = 'zhengtong.v1.AuditService';

/** Where the gateway is and the supervisor's or portal's key and certificate: every call is signed. */
export type AuditClientOptions = SignedTransportOptions;

export type AuditCallOptions = SignedCallOptions;

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
const DECODE: protobuf.IConversionOptions = { longs: String, defaults: true, arrays: true, objects: true };

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
  readonly #t: SignedTransport;
  readonly #uscc: string;

  constructor(options: AuditClientOptions) {
    this.#t = new SignedTransport(options, 'the audit API');
    this.#uscc = this.#t.department;
    if (this.#t.hasGrpc) auditService();
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
      const { body, metadata } = await this.#t.grpcRequest(path, request, { requester: this.#uscc, filters: Object.fromEntries(filterEntries(input)), format }, options);
      const stream = this.#t.grpcClient().makeServerStreamRequest(path, passBytes, passBytes, body, metadata, {});
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
    const response = await this.#t.httpFetch('GET', `/v1/audit/access-records/export${path}`, undefined, options);
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

  #use(options: AuditCallOptions): 'http' | 'grpc' {
    return this.#t.use(options);
  }

  /** The query string (with the requester first), '?…'. */
  #query(entries: [string, string][], limit?: number, cursor?: string): string {
    const params = new URLSearchParams([['requester', this.#uscc], ...entries]);
    if (limit !== undefined) params.set('limit', String(limit));
    if (cursor !== undefined) params.set('cursor', cursor);
    return `?${params.toString()}`;
  }

  #httpJson(method: 'GET' | 'POST', path: string, search: string, body: Buffer | undefined, options: AuditCallOptions): Promise<Msg> {
    return this.#t.httpJson(method, path + search, body, options);
  }

  #grpcUnary(method: string, fields: Msg, options: AuditCallOptions): Promise<Msg> {
    const { path, request, response } = rpc(method);
    return this.#t.grpcUnary(path, request, response, fields, options, DECODE);
  }

  async #grpcJson(method: string, fields: Msg, options: AuditCallOptions): Promise<Msg> {
    const answer = await this.#grpcUnary(method, fields, options);
    try {
      return JSON.parse(Buffer.from(answer.json as Uint8Array).toString('utf8')) as Msg;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${method} answered with JSON that does not parse`, { cause: error });
    }
  }

  /** Closes the gRPC channel, and the signer if the client made it from key material. */
  close(): Promise<void> {
    return this.#t.close();
  }
}
