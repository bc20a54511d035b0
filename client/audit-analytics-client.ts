// The client of the access log's analytics (效能分析) and anomaly flags, for a supervisor's system and the CLI: the
// report per department or resource and the anomaly flags, over HTTP or gRPC with the same results and the same
// refusal codes. Every call is a signed request (docs/exchange-protocol.md) with the supervisor department's SM2 key.
//
//   import { AuditAnalyticsClient, DepartmentKey } from './client/index.js';
//
//   const client = new AuditAnalyticsClient({
//     httpUrl: 'http://127.0.0.1:8080',          // and/or grpcAddress: '127.0.0.1:50051'
//     signer: DepartmentKey.fromFiles('11210100001000096L.key.pem', '11210100001000096L.cert.pem'),
//   });
//   const report = await client.report({ from: '2026-11-01', to: '2026-12-01', by: 'department' });
//   const { flags } = await client.anomalies({ from: '2026-11-26', to: '2026-11-27' });
//   for (const f of flags) console.log(f.kind, f.department, f.reason);
//   await client.close();
//
// Refusals are ExchangeError (ZT_ERR_AUDIT_FORBIDDEN, ZT_ERR_AUDIT_QUERY_INVALID …, docs/errors.md).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { packageRoot } from '../core/paths.js';
import { SM2_DEFAULT_USER_ID } from '../certs/sm2/sm2.js';
import type { Signer } from '../certs/signer/index.js';
import { parseCertificate, readUscc } from '../certs/x509/index.js';
import type { AnomalyFlag, AnomalyReport } from '../audit/analytics/anomalies.js';
import type { AnalyticsReport, ReportDimension } from '../audit/analytics/report.js';
import { DepartmentKey, type DepartmentKeyMaterial } from './department-key.js';
import { aborted, describeError, ExchangeClientError, ExchangeError, grpcFailure, readErrorBody } from './errors.js';
import { newNonce, signGrpcRequest, signHttpRequest } from './request-signing.js';
import type { ExchangeProtocol } from './exchange-client.js';

export const AUDIT_ANALYTICS_GRPC_SERVICE = 'zhengtong.v1.AuditAnalyticsService';
export type { AnalyticsReport, AnomalyFlag, AnomalyReport, ReportDimension };

export interface AuditAnalyticsClientOptions {
  httpUrl?: string;
  grpcAddress?: string;
  /** The supervisor department's key (a Signer with its certificate, or key material). */
  signer: Signer | DepartmentKeyMaterial;
  /** When a call is not told: 'http' if httpUrl is set, else 'grpc'. */
  protocol?: ExchangeProtocol;
  clock?: () => number;
  nonce?: () => string;
}

export interface AnalyticsRangeInput {
  /** ISO 8601 with offset, a Date, or a date (China time). Default: the server's (7 days for a report, 1 for anomalies, up to now). */
  from?: string | Date;
  to?: string | Date;
}

export interface AnalyticsCallOptions {
  protocol?: ExchangeProtocol;
  signal?: AbortSignal;
  requestId?: string;
}

type Msg = Record<string, unknown>;
const identity = (b: Buffer): Buffer => b;
const EMPTY = Buffer.alloc(0);
const DECODE: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true, objects: true };

let service: protobuf.Service | undefined;
function analyticsService(): protobuf.Service {
  if (!service) {
    const dir = join(packageRoot(), 'proto');
    const root = new protobuf.Root();
    const resolvePath = root.resolvePath.bind(root);
    root.resolvePath = (origin, target) => (target.startsWith('google/protobuf/') ? resolvePath(origin, target) : join(dir, target));
    root.loadSync('zhengtong/v1/audit_analytics.proto', { keepCase: false });
    root.resolveAll();
    service = root.lookupService(AUDIT_ANALYTICS_GRPC_SERVICE);
  }
  return service;
}

function text(value: string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

function flagFromMessage(m: Msg): AnomalyFlag {
  return {
    id: String(m.id),
    kind: m.kind as AnomalyFlag['kind'],
    rule: String(m.rule),
    department: String(m.department),
    departmentName: m.departmentName ? String(m.departmentName) : null,
    operator: m.operator ? String(m.operator) : null,
    window: { from: String(m.windowFrom), to: String(m.windowTo) },
    reason: String(m.reason),
    evidence: { ...(m.evidence as Record<string, number>) },
    samples: { recordIds: [...((m.sampleRecordIds as string[]) ?? [])], caseNumbers: [...((m.sampleCaseNumbers as string[]) ?? [])] },
  };
}

export class AuditAnalyticsClient {
  readonly #signer: Signer;
  readonly #ownsSigner: boolean;
  readonly #uscc: string;
  readonly #httpUrl: URL | undefined;
  readonly #grpcAddress: string | undefined;
  readonly #protocol: ExchangeProtocol;
  readonly #clock: () => number;
  readonly #nonce: () => string;
  #grpc: grpc.Client | undefined;
  #closed = false;

  constructor(options: AuditAnalyticsClientOptions) {
    const given = options.signer;
    const isSigner = typeof (given as Signer)?.sign === 'function';
    this.#signer = isSigner ? (given as Signer) : DepartmentKey.fromMaterial(given as DepartmentKeyMaterial);
    this.#ownsSigner = !isSigner;
    const certificate = this.#signer.certificate;
    if (!certificate) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer has no certificate: a signed request carries the signing certificate');
    if (this.#signer.userId !== SM2_DEFAULT_USER_ID) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', `the signer's SM2 user ID must be ${SM2_DEFAULT_USER_ID} (GM/T 0009)`);
    const uscc = readUscc(parseCertificate(certificate.der));
    if (!uscc) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the signer\'s certificate names no USCC: a supervisor signs as its department');
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
    this.#protocol = options.protocol ?? (this.#httpUrl ? 'http' : 'grpc');
    this.#clock = options.clock ?? Date.now;
    this.#nonce = options.nonce ?? newNonce;
    if (this.#grpcAddress !== undefined) analyticsService();
  }

  /** The USCC the calls are signed as. */
  get department(): string {
    return this.#uscc;
  }

  /** Volumes, refusals, latency percentiles and fulfilment per department or resource; demand reply times per supplier. */
  async report(input: AnalyticsRangeInput & { by?: ReportDimension } = {}, options: AnalyticsCallOptions = {}): Promise<AnalyticsReport> {
    const parameters = { from: text(input.from), to: text(input.to), by: input.by };
    if (this.#use(options) === 'grpc') {
      const answer = await this.#grpcCall('Report', parameters, options);
      try {
        return JSON.parse(String(answer.json)) as AnalyticsReport;
      } catch (error) {
        throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `the report is not JSON: ${describeError(error)}`, { cause: error });
      }
    }
    return (await this.#httpGet('/v1/audit/analytics', parameters, options)) as unknown as AnalyticsReport;
  }

  /** The anomaly flags over the range, with their reasons, in a stable order. */
  async anomalies(input: AnalyticsRangeInput = {}, options: AnalyticsCallOptions = {}): Promise<AnomalyReport> {
    const parameters = { from: text(input.from), to: text(input.to) };
    if (this.#use(options) === 'grpc') {
      const m = await this.#grpcCall('Anomalies', parameters, options);
      return {
        from: String(m.from),
        to: String(m.to),
        flags: ((m.flags as Msg[]) ?? []).map(flagFromMessage),
        truncated: m.truncated === true,
        settings: JSON.parse(String(m.settingsJson || '{}')) as AnomalyReport['settings'],
      };
    }
    return (await this.#httpGet('/v1/audit/anomalies', parameters, options)) as unknown as AnomalyReport;
  }

  #use(options: AnalyticsCallOptions): ExchangeProtocol {
    if (this.#closed) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'the client is closed');
    if (options.signal?.aborted) throw aborted(options.signal);
    return options.protocol ?? this.#protocol;
  }

  async #httpGet(path: string, parameters: Record<string, string | undefined>, options: AnalyticsCallOptions): Promise<Msg> {
    if (!this.#httpUrl) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no httpUrl was given: cannot call the gateway over HTTP');
    const url = new URL(path, this.#httpUrl);
    url.searchParams.set('requester', this.#uscc);
    for (const [k, v] of Object.entries(parameters)) if (v !== undefined) url.searchParams.set(k, v);
    const signed = await signHttpRequest({ method: 'GET', path: url.pathname + url.search, body: EMPTY, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
    const headers: Record<string, string> = { accept: 'application/json', ...signed.headers };
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    let status: number;
    let body: string;
    try {
      const response = await fetch(url, { method: 'GET', headers, ...(options.signal ? { signal: options.signal } : {}) });
      status = response.status;
      body = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw aborted(options.signal);
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `GET ${url.href} failed: ${describeError(error)}`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `GET ${url.pathname} answered HTTP ${status} with a body that is not JSON`, { cause: error });
    }
    if (status < 200 || status >= 300) {
      const refusal = readErrorBody(json);
      if (!refusal) throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `GET ${url.pathname} answered HTTP ${status} without an error body`);
      throw new ExchangeError({ ...refusal, httpStatus: status });
    }
    if (!json || typeof json !== 'object') throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `GET ${url.pathname} answered with JSON that is not an object`);
    return json as Msg;
  }

  async #grpcCall(method: string, parameters: Record<string, string | undefined>, options: AnalyticsCallOptions): Promise<Msg> {
    const m = analyticsService().methods[method]!;
    const requestType = m.resolvedRequestType!;
    const responseType = m.resolvedResponseType!;
    const path = `/${AUDIT_ANALYTICS_GRPC_SERVICE}/${method}`;
    const message: Msg = { requester: this.#uscc };
    for (const [k, v] of Object.entries(parameters)) if (v !== undefined) message[k] = v;
    const body = Buffer.from(requestType.encode(requestType.fromObject(message)).finish());
    const { metadata } = await signGrpcRequest({ path, body, signer: this.#signer, timestamp: new Date(this.#clock()).toISOString(), nonce: this.#nonce() });
    if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
    const client = (this.#grpc ??= this.#grpcAddress !== undefined ? new grpc.Client(this.#grpcAddress, grpc.credentials.createInsecure()) : undefined);
    if (!client) throw new ExchangeClientError('ZT_CLIENT_CONFIG_INVALID', 'no grpcAddress was given: cannot call the gateway over gRPC');
    const signal = options.signal;
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const call = client.makeUnaryRequest(path, identity, identity, body, metadata, {}, (error, response) => {
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        if (error) reject(grpcFailure(path, error, signal));
        else if (!response) reject(new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `${path} returned no message`));
        else resolve(response);
      });
      if (signal) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      return responseType.toObject(responseType.decode(bytes), DECODE) as Msg;
    } catch (error) {
      throw new ExchangeClientError('ZT_CLIENT_TRANSPORT_FAILED', `the answer is not a ${responseType.name}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Closes the gRPC channel, and the signer if the client made it from key material. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#grpc?.close();
    if (this.#ownsSigner) await this.#signer.close();
  }
}
