// zhengtong.v1.LicenceService: the registry over gRPC, with the semantics and errors of the HTTP routes.
import { decodeEnvelopeJson, envelopeFromMessage, envelopeToMessage } from '../../certs/envelope/index.js';
import { ZtError } from '../../core/errors/index.js';
import { declareAccess, toTimestamp, type CallContext, type UnaryHandler } from '../../transport/grpc.js';
import { department, PUBLIC, PUBLIC_OR_SIGNED, statement } from '../../transport/access.js';
import { readLicencePurpose, type LicenceReadPurpose, type LicenceReads } from '../licence-reads.js';
import { GRPC_METADATA, presentedGrpcSignature } from '../../transport/request-signature.js';
import { holderCodeTypeOf, readIssueInput, type LicenceRegistry, type StepInput } from '../licence-registry.js';
import type { LicenceType } from '../licence-type.js';
import { encodeCompactLicence } from '../offline/compact.js';
import type { LicenceTransitionRecord, StoredLicence } from '../sql/sql-licence-store.js';
import { readTarget, type LicenceVerifier } from '../verification-service.js';

type Msg = Record<string, unknown>;

export const LICENCE_VERIFY_METHOD = '/zhengtong.v1.LicenceService/Verify';


function signatureOf(request: Msg): unknown {
  const message = request.signature;
  return message && typeof message === 'object' ? envelopeFromMessage(message) : undefined;
}

function typeOut(t: LicenceType): Msg {
  return { ...t, fields: t.fields.map((f) => ({ ...f, maxLength: f.maxLength ?? 0, sensitive: f.sensitive ?? false })), validityYears: t.validityYears ?? 0 };
}

function typeIn(m: Msg): unknown {
  const fields = Array.isArray(m.fields) ? (m.fields as Msg[]).map((f) => ({ ...f, maxLength: f.maxLength || undefined })) : m.fields;
  return { ...m, fields, validityYears: m.validityYears || null };
}

export function licenceMessage(l: StoredLicence): Msg {
  return {
    identifier: l.identifier,
    status: l.status,
    document: l.document,
    envelope: envelopeToMessage(decodeEnvelopeJson(JSON.stringify(l.envelope))),
    supersedes: l.supersedes ?? '',
    supersededBy: l.supersededBy ?? '',
    source: l.source,
    flags: l.flags,
    issuedAt: toTimestamp(l.issuedAt),
    updatedAt: toTimestamp(l.updatedAt),
  };
}

function transitionOut(t: LicenceTransitionRecord): Msg {
  return {
    seq: t.seq,
    kind: t.kind,
    actor: t.actor,
    reason: t.reason ?? '',
    from: t.from ?? '',
    to: t.to,
    at: toTimestamp(t.at),
    statement: t.signature?.statement ?? '',
    envelope: t.signature ? envelopeToMessage(decodeEnvelopeJson(JSON.stringify(t.signature.envelope))) : null,
  };
}

function stepIn(m: Msg): StepInput {
  const fields = m.fields as Record<string, string> | undefined;
  const step: StepInput = { actor: String(m.actor ?? '') };
  if (m.reason) step.reason = String(m.reason);
  if (m.holderName) step.holderName = String(m.holderName);
  if (m.validTo) step.validTo = String(m.validTo);
  if (fields && Object.keys(fields).length > 0) step.fields = fields;
  return step;
}

const purposeOf = (request: Msg): LicenceReadPurpose => {
  const p = (request.purpose ?? {}) as Msg;
  return readLicencePurpose(p.serviceItem, p.caseNumber, request.operator);
};
const READ = department('an issuer of the licence type, or the intake department of the holder\'s case; signed, for a case (purpose), recorded');
const ISSUER = statement('issuer', 'an issuer of the licence type, by its signed statement');

export function licenceHandlers(registry: LicenceRegistry, verifier: LicenceVerifier, reads: LicenceReads): Record<string, UnaryHandler> {
  /** One licence version read for a case: the read is allowed and recorded before anything is returned. */
  const readOne = async (request: Msg, call: CallContext): Promise<StoredLicence> =>
    (await reads.read(call.caller!, 'grpc', purposeOf(request), null, async () => [await registry.get(String(request.identifier ?? ''))]))[0]!;
  const step =
    (kind: 'revoke' | 'suspend' | 'resume' | 'change' | 'renew'): UnaryHandler =>
    async (request) => {
      const identifier = String(request.identifier ?? '');
      const stored =
        kind === 'change' || kind === 'renew'
          ? await registry.newVersion(kind, identifier, stepIn(request), signatureOf(request))
          : await registry.setStatus(kind, identifier, stepIn(request), signatureOf(request));
      return licenceMessage(stored);
    };
  const verify: UnaryHandler = async (request, call) => {
    const signed = call.metadata.get(GRPC_METADATA.signature).length > 0;
    const presented = request.presented as Msg | null;
    const body: Msg = {
      requester: request.requester,
      purpose: request.purpose,
      operator: request.operator,
      identifier: request.identifier || undefined,
      compact: request.compact || undefined,
    };
    if (presented && typeof presented === 'object') {
      body.document = Buffer.from(presented.document as Uint8Array).toString('utf8');
      body.envelope = presented.envelope && typeof presented.envelope === 'object' ? envelopeFromMessage(presented.envelope) : undefined;
    }
    const answer = signed
      ? await verifier.department({
          protocol: 'grpc',
          method: 'POST',
          path: LICENCE_VERIFY_METHOD,
          body: call.raw,
          request: body,
          signature: () => presentedGrpcSignature(call.metadata),
          verification: call.verification,
        })
      : await verifier.anonymous(readTarget(body), call.peer);
    return { result: answer.canonical, signature: envelopeToMessage(answer.signature) };
  };
  return declareAccess({
    ListTypes: async () => ({ types: registry.types().map(typeOut) }),
    DefineType: async (request) => {
      const type = request.type && typeof request.type === 'object' ? typeIn(request.type as Msg) : null;
      if (!type) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'type is required');
      return typeOut(await registry.defineTypeSigned(type, signatureOf(request)));
    },
    Issue: async (request) => {
      const licence = (request.licence ?? null) as Msg | null;
      if (!licence) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'licence is required');
      return licenceMessage(await registry.issue(readIssueInput(licence), signatureOf(request)));
    },
    Get: async (request, call) => licenceMessage(await readOne(request, call)),
    FindByHolder: async (request, call) => {
      const code = String(request.holderCode ?? '').toUpperCase();
      const codeType = String(request.holderCodeType || holderCodeTypeOf(code));
      const asked = { kind: codeType === '111' ? ('person' as const) : ('organisation' as const), code };
      const found = await reads.read(call.caller!, 'grpc', purposeOf(request), asked, () => registry.byHolder(code, codeType, request.typeCode ? String(request.typeCode) : null));
      return { licences: found.map(licenceMessage) };
    },
    FindByNumber: async (request, call) => ({
      licences: (await reads.read(call.caller!, 'grpc', purposeOf(request), null, () => registry.byNumber(String(request.typeCode ?? ''), String(request.licenceNumber ?? '')))).map(licenceMessage),
    }),
    History: async (request, call) => {
      await readOne(request, call);
      const identifier = String(request.identifier ?? '');
      return { identifier, transitions: (await registry.history(identifier)).map(transitionOut) };
    },
    Verify: verify,
    Revoke: step('revoke'),
    Suspend: step('suspend'),
    Resume: step('resume'),
    Change: step('change'),
    Renew: step('renew'),
    GetStatusList: async (request) => {
      const list = Number(request.list ?? 0);
      if (!Number.isInteger(list) || list < 1) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'list is a whole number from 1');
      const { revision, credential } = await registry.statusList(String(request.issuer ?? '').toUpperCase(), list);
      return { credential: Buffer.from(JSON.stringify(credential), 'utf8'), revision };
    },
    GetCompact: async (request, call) => {
      const l = await readOne(request, call);
      return { compact: encodeCompactLicence({ document: l.document, envelope: decodeEnvelopeJson(JSON.stringify(l.envelope)) }) };
    },
  }, {
    ListTypes: PUBLIC,
    DefineType: statement('administrator', 'the platform administrator (a certificate of ZT_PLATFORM_USCC), by its signed statement'),
    Issue: ISSUER,
    Get: READ,
    FindByHolder: READ,
    FindByNumber: READ,
    History: READ,
    Verify: PUBLIC_OR_SIGNED,
    Revoke: ISSUER,
    Suspend: ISSUER,
    Resume: ISSUER,
    Change: ISSUER,
    Renew: ISSUER,
    GetStatusList: PUBLIC,
    GetCompact: READ,
  });
}
