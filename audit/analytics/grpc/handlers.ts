// zhengtong.v1.AuditAnalyticsService: the analytics over gRPC, with the semantics and errors of the HTTP routes. A
// call is signed in its metadata over the full method name and the request message's bytes.
import { role } from '../../../transport/access.js';
import type { Verification } from '../../../transport/signed-call.js';
import type * as grpc from '@grpc/grpc-js';
import { declareAccess, type UnaryHandler } from '../../../transport/grpc.js';
import { presentedGrpcSignature } from '../../../transport/request-signature.js';
import type { SignedCall } from '../../../exchange/signed-request.js';
import type { AnomalyFlag } from '../anomalies.js';
import type { AuditAnalytics } from '../service.js';

export const AUDIT_ANALYTICS_GRPC_SERVICE = 'zhengtong.v1.AuditAnalyticsService';

type Msg = Record<string, unknown>;


function signedCall(method: string, call: { raw: Buffer; metadata: grpc.Metadata; verification: Verification | null }): SignedCall {
  return {
    method: 'POST',
    path: `/${AUDIT_ANALYTICS_GRPC_SERVICE}/${method}`,
    body: call.raw,
    signature: () => presentedGrpcSignature(call.metadata),
    verification: call.verification,
  };
}

/** proto3 strings arrive as '' when absent; the service reads absent parameters as undefined. */
function parameters(request: Msg, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = request[name];
    if (typeof v === 'string' && v !== '') out[name] = v;
  }
  return out;
}

export function flagMessage(f: AnomalyFlag): Msg {
  return {
    id: f.id,
    kind: f.kind,
    rule: f.rule,
    department: f.department,
    departmentName: f.departmentName ?? '',
    operator: f.operator ?? '',
    windowFrom: f.window.from,
    windowTo: f.window.to,
    reason: f.reason,
    evidence: f.evidence,
    sampleRecordIds: f.samples.recordIds,
    sampleCaseNumbers: f.samples.caseNumbers,
  };
}

export function auditAnalyticsHandlers(analytics: AuditAnalytics): Record<string, UnaryHandler> {
  return declareAccess({
    Report: async (request, call) => {
      const report = await analytics.report(parameters(request, ['requester', 'from', 'to', 'by']), signedCall('Report', call));
      return { json: JSON.stringify(report) };
    },
    Anomalies: async (request, call) => {
      const report = await analytics.anomalies(parameters(request, ['requester', 'from', 'to']), signedCall('Anomalies', call));
      return { from: report.from, to: report.to, flags: report.flags.map(flagMessage), truncated: report.truncated, settingsJson: JSON.stringify(report.settings) };
    },
  }, {
    Report: role('supervisor', { recordsRefusals: true }),
    Anomalies: role('supervisor', { recordsRefusals: true }),
  });
}
