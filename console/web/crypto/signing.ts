// What a steward's page signs with the department's SM2 key:
// - a demand step: the statement of docs/signed-transitions.md (registry/catalogue/signed-transitions.ts) in an
//   envelope that carries the certificate, sent as the body's `signature` (for an import: Zt-Signature header);
// - a catalogue call: the Zt-* request signature of docs/exchange-protocol.md (transport/request-signature.ts).
import { canonicalJson, pruned } from '../../../core/canonical-json.js';
import { bytesToBase64, bytesToHex, utf8 } from './bytes.js';
import { signEnvelope, type EnvelopeJson } from './envelope.js';
import type { CertificateInfo, PrivateKeyInfo } from './keys.js';
import { sm2Sign, sm3 } from './sm.js';

export const TRANSITION_STATEMENT_SCHEMA = 'zhengtong/demand-transition/v1';
export type TransitionKind = 'register' | 'approve' | 'refuse' | 'withdraw' | 'import';

const CONTENT_FIELDS: Readonly<Record<TransitionKind, readonly string[]>> = {
  register: ['requester', 'resource', 'items', 'serviceItem', 'legalBasis', 'expectedDailyVolume', 'validFrom', 'validTo'],
  approve: ['terms'],
  refuse: ['negativeListRuleId', 'legalBasis', 'reason'],
  withdraw: ['reason'],
  import: ['documentSm3'],
};

export interface TransitionToSign {
  kind: TransitionKind;
  demandId?: string | null;
  actor: string;
  content: object;
}

export function transitionStatement(step: TransitionToSign): Uint8Array {
  const content: Record<string, unknown> = {};
  for (const f of CONTENT_FIELDS[step.kind]) content[f] = (step.content as Record<string, unknown>)[f];
  return utf8(
    canonicalJson({
      schema: TRANSITION_STATEMENT_SCHEMA,
      kind: step.kind,
      demandId: step.demandId ?? null,
      actor: step.actor.trim().toUpperCase(),
      content: pruned(content) ?? {},
    }),
  );
}

export interface SigningKey {
  key: PrivateKeyInfo;
  certificate: CertificateInfo;
}

export function signTransition(signing: SigningKey, step: TransitionToSign, now = Date.now()): EnvelopeJson {
  return signEnvelope(transitionStatement(step), signing.key, signing.certificate.der, now);
}

export const REQUEST_SIGNATURE_SCHEME = 'ZT-SM2-SM3-REQUEST-V1';

export function canonicalRequest(parts: { method: string; path: string; timestamp: string; nonce: string; bodySm3: string; certificateSm3: string }): Uint8Array {
  return utf8([REQUEST_SIGNATURE_SCHEME, parts.method.toUpperCase(), parts.path, parts.timestamp, parts.nonce, parts.bodySm3, parts.certificateSm3].join('\n'));
}

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The Zt-* headers of a signed request (method, path with query, body exactly as sent). */
export function signRequest(signing: SigningKey, request: { method: string; path: string; body: string | Uint8Array }, now = Date.now()): Record<string, string> {
  const body = typeof request.body === 'string' ? utf8(request.body) : request.body;
  const timestamp = new Date(Math.floor(now)).toISOString();
  const n = nonce();
  const canonical = canonicalRequest({ method: request.method, path: request.path, timestamp, nonce: n, bodySm3: bytesToHex(sm3(body)), certificateSm3: signing.certificate.sm3 });
  const signature = sm2Sign(canonical, signing.key.d, signing.key.publicKey);
  return {
    'zt-timestamp': timestamp,
    'zt-nonce': n,
    'zt-certificate': bytesToBase64(signing.certificate.der),
    'zt-request-signature': bytesToBase64(signature),
  };
}
