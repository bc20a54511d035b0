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
import protobuf from 'protobufjs';
import { packageRoot } from '../core/paths.js';
import type { AnomalyFlag, AnomalyReport } from '../audit/analytics/anomalies.js';
import type { AnalyticsReport, ReportDimension } from '../audit/analytics/report.js';
import { describeError, ExchangeClientError } from './errors.js';
import { SignedTransport, type SignedCallOptions, type SignedTransportOptions } from './signed-transport.js';

export const AUDIT_ANALYTICS_GRPC_SERVICE = 'zhengtong.v1.AuditAnalyticsService';
export type { AnalyticsReport, AnomalyFlag, AnomalyReport, ReportDimension };

/** Where the gateway is, and the supervisor department's key (a Signer with its certificate, or key material). */
export type AuditAnalyticsClientOptions = SignedTransportOptions;

export interface AnalyticsRangeInput {
  /** ISO 8601 with offset, a Date, or a date (China time). Default: the server's (7 days for a report, 1 for anomalies, up to now). */
  from?: string | Date;
  to?: string | Date;
}

export type AnalyticsCallOptions = SignedCallOptions;

type Msg = Record<string, unknown>;
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
  readonly #t: SignedTransport;
  readonly #uscc: string;

  constructor(options: AuditAnalyticsClientOptions) {
    this.#t = new SignedTransport(options, 'the analytics API');
    this.#uscc = this.#t.department;
    if (this.#t.hasGrpc) analyticsService();
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

  #use(options: AnalyticsCallOptions): 'http' | 'grpc' {
    return this.#t.use(options);
  }

  #httpGet(path: string, parameters: Record<string, string | undefined>, options: AnalyticsCallOptions): Promise<Msg> {
    const query = new URLSearchParams([['requester', this.#uscc]]);
    for (const [k, v] of Object.entries(parameters)) if (v !== undefined) query.set(k, v);
    return this.#t.httpJson('GET', `${path}?${query.toString()}`, undefined, options);
  }

  #grpcCall(method: string, parameters: Record<string, string | undefined>, options: AnalyticsCallOptions): Promise<Msg> {
    const m = analyticsService().methods[method]!;
    const message: Msg = { requester: this.#uscc };
    for (const [k, v] of Object.entries(parameters)) if (v !== undefined) message[k] = v;
    return this.#t.grpcUnary(`/${AUDIT_ANALYTICS_GRPC_SERVICE}/${method}`, m.resolvedRequestType!, m.resolvedResponseType!, message, options, DECODE);
  }

  /** Closes the gRPC channel, and the signer if the client made it from key material. */
  close(): Promise<void> {
    return this.#t.close();
  }
}
