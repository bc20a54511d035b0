// zhengtong.v1.AuditLogService: the tamper-evident log over gRPC, with the semantics and errors of the HTTP routes.
// uint64 fields arrive as strings ('0' when absent); they are handed to AuditLogApi as the query string would be.
import { PUBLIC, role } from '../../../transport/access.js';
import type { Verification } from '../../../transport/signed-call.js';
import type * as grpc from '@grpc/grpc-js';
import { declareAccess, type UnaryHandler } from '../../../transport/grpc.js';
import { presentedGrpcSignature } from '../../../transport/request-signature.js';
import type { SignedCall } from '../../../exchange/signed-request.js';
import type { AuditLogApi, RawParameters } from '../api.js';
import type { Checkpoint } from '../checkpoint.js';

export const AUDIT_LOG_GRPC_SERVICE = 'zhengtong.v1.AuditLogService';

type Msg = Record<string, unknown>;


function signedCall(method: string, call: { raw: Buffer; metadata: grpc.Metadata; verification: Verification | null }): SignedCall {
  return {
    method: 'POST',
    path: `/${AUDIT_LOG_GRPC_SERVICE}/${method}`,
    body: call.raw,
    signature: () => presentedGrpcSignature(call.metadata),
    verification: call.verification,
  };
}

/** proto3 scalars arrive as their defaults when absent ('' and '0'): read as absent. */
function parameters(request: Msg, names: Record<string, string>): RawParameters {
  const out: RawParameters = {};
  for (const [field, parameter] of Object.entries(names)) {
    const v = request[field];
    const text = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
    if (text !== undefined && text !== '' && text !== '0') out[parameter] = text;
  }
  return out;
}

const hexBytes = (h: string): Buffer => Buffer.from(h, 'hex');

export function checkpointMessage(c: Checkpoint): Msg {
  return { treeSize: String(c.treeSize), rootHash: c.rootHash, signedAt: c.signedAt, platform: c.platform, envelopeJson: JSON.stringify(c.envelope) };
}

export function auditLogHandlers(api: AuditLogApi): Record<string, UnaryHandler> {
  return declareAccess({
    GetLatestCheckpoint: async () => checkpointMessage(await api.latest({})),
    GetCheckpoint: async (request) => {
      const raw = parameters(request, { treeSize: 'treeSize' });
      return checkpointMessage(await api.checkpoint(raw));
    },
    ListCheckpoints: async (request) => {
      const page = await api.checkpoints(parameters(request, { limit: 'limit', before: 'before' }));
      return { checkpoints: page.checkpoints.map(checkpointMessage), next: page.next ?? '0' };
    },
    GetConsistencyProof: async (request) => {
      const raw = parameters(request, { first: 'first', second: 'second' });
      // 0 is a size out of range, not an absent one.
      if (request.first === '0') raw.first = '0';
      if (request.second === '0') raw.second = '0';
      const p = await api.consistency(raw);
      return { first: String(p.first), second: String(p.second), firstRoot: hexBytes(p.firstRoot), secondRoot: hexBytes(p.secondRoot), proof: p.proof.map(hexBytes) };
    },
    GetInclusionProof: async (request, call) => {
      const p = await api.inclusion(signedCall('GetInclusionProof', call), parameters(request, { requester: 'requester', treeSize: 'treeSize' }), String(request.recordId ?? ''));
      return {
        recordId: p.recordId,
        seq: String(p.seq),
        leafIndex: String(p.leafIndex),
        leafHash: hexBytes(p.leafHash),
        leaf: p.leaf === undefined ? Buffer.alloc(0) : Buffer.from(p.leaf, 'utf8'),
        treeSize: String(p.treeSize),
        proof: p.proof.map(hexBytes),
        checkpoint: checkpointMessage(p.checkpoint),
      };
    },
  }, {
    GetLatestCheckpoint: PUBLIC,
    GetCheckpoint: PUBLIC,
    ListCheckpoints: PUBLIC,
    GetConsistencyProof: PUBLIC,
    GetInclusionProof: role(['portal', 'supervisor'], { recordsRefusals: true }),
  });
}
