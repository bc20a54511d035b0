// The submission check (提交校验): the form comes back with the applicant's additions, and the gateway proves that the
// government-verified values were not altered on the way. The prefill answer was signed by the platform; the check
// verifies that signature over the answer as returned, recomputes the locked digest from it, and compares every
// locked field of the submission with it, naming each one that differs.
import { canonicalJson } from '../core/canonical-json.js';
import { ZtError } from '../core/errors/index.js';
import { decodeEnvelopeJson, type SignedEnvelope } from '../certs/envelope/index.js';
import { lockedDigest, lockedValues, PREFILL_SCHEMA, type PrefillResult } from './prefill.js';

export interface SubmissionInput {
  /** The prefill answer exactly as it was returned (its canonical JSON is what the platform signed). */
  prefill: unknown;
  /** The platform's signed envelope over it, as returned. */
  signature: unknown;
  /** The submitted form: field code → value. */
  values: Record<string, unknown>;
}

export interface SubmissionCheck {
  caseNumber: string;
  serviceItem: string;
  lockedDigest: string;
  /** Locked fields, all unchanged. */
  locked: string[];
  /** Required fields the applicant still has to fill in (the form is incomplete, not tampered with). */
  missing: string[];
}

const same = (a: unknown, b: unknown): boolean => {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
};

/** Verifies the prefill's signature (verifyPlatform) and that no locked value was altered. */
export async function checkSubmission(
  input: SubmissionInput,
  verifyPlatform: (envelope: SignedEnvelope, payload: Buffer) => Promise<void>,
  required: (serviceItem: string) => readonly string[],
): Promise<SubmissionCheck> {
  const prefill = input.prefill as PrefillResult;
  if (!prefill || typeof prefill !== 'object' || prefill.schema !== PREFILL_SCHEMA || !Array.isArray(prefill.fields)) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `prefill must be the ${PREFILL_SCHEMA} answer as it was returned`);
  }
  if (!input.values || typeof input.values !== 'object' || Array.isArray(input.values)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'values must be an object of field codes');
  let envelope: SignedEnvelope;
  try {
    envelope = decodeEnvelopeJson(typeof input.signature === 'string' ? input.signature : JSON.stringify(input.signature));
  } catch (error) {
    throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', `signature is not a signed envelope: ${(error as Error).message}`, { cause: error });
  }
  let payload: Buffer;
  try {
    payload = Buffer.from(canonicalJson(prefill), 'utf8');
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `prefill cannot be put in canonical form: ${(error as Error).message}`, { cause: error });
  }
  // Any change to the answer itself (a locked value rewritten in it, a field unlocked) breaks the platform's signature.
  await verifyPlatform(envelope, payload);
  const locked = lockedValues(prefill.fields);
  if (lockedDigest(prefill, locked) !== prefill.lockedDigest) throw new ZtError('ZT_ERR_SIGNATURE_INVALID', 'the prefill\'s locked digest does not match its locked values');
  const altered = Object.keys(locked).filter((code) => !same(input.values[code], locked[code]));
  if (altered.length > 0) {
    throw new ZtError('ZT_ERR_INTAKE_LOCKED_ALTERED', `government-verified fields were changed: ${altered.join(', ')}`, { details: { fields: altered, caseNumber: prefill.caseNumber } });
  }
  const missing = required(prefill.serviceItem).filter((code) => !(code in locked) && (input.values[code] === undefined || input.values[code] === null || input.values[code] === ''));
  return { caseNumber: prefill.caseNumber, serviceItem: prefill.serviceItem, lockedDigest: prefill.lockedDigest, locked: Object.keys(locked), missing };
}
