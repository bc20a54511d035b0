// Licence lookups are reads of personal data (a licence names its holder, and a 结婚证 the spouse too): by holder, by
// number, the full document, its history and its compact form are read by a department for a case, only where the
// department may see the licence, and recorded in the access log like an exchange read, so the holder sees them in
// the citizen's view. A department may see a licence when it issues licences of that type, or when the case it
// names is an application of the holder that it took in (intake_cases). Anonymous callers verify instead, masked.
import { performance } from 'node:perf_hooks';
import { isZtError, ZtError, type ErrorCode } from '../core/errors/index.js';
import type { Database } from '../core/storage/index.js';
import { canonicalJson } from '../core/canonical-json.js';
import { sm3 } from '../certs/sm2/sm2.js';
import type { AccessLogWriter } from '../audit/index.js';
import type { Caller } from '../transport/access.js';
import type { LicenceRegistry } from './licence-registry.js';
import type { StoredLicence } from './sql/sql-licence-store.js';
import { LICENCE_ACCESS_POLICY } from './verification-service.js';

const SERVICE_ITEM = /^[A-Za-z0-9-]{4,64}$/;
const CASE_NUMBER = /^[\p{L}\p{N}_\-./:()（）〔〕[\]]{1,64}$/u;

export interface LicenceReadPurpose {
  serviceItem: string;
  caseNumber: string;
  operator: string | null;
}

export interface LicenceReadsOptions {
  db: Database;
  registry: LicenceRegistry;
  log: AccessLogWriter;
  newAccessId: () => string;
}

/** Reads the purpose of a licence read from query parameters or a message; ZT_ERR_PURPOSE_REQUIRED when absent. */
export function readLicencePurpose(serviceItem: unknown, caseNumber: unknown, operator: unknown): LicenceReadPurpose {
  const item = typeof serviceItem === 'string' ? serviceItem : '';
  const number = typeof caseNumber === 'string' ? caseNumber : '';
  if (!SERVICE_ITEM.test(item) || !CASE_NUMBER.test(number)) {
    throw new ZtError('ZT_ERR_PURPOSE_REQUIRED', 'a licence read states its purpose: serviceItem (4 to 64 letters, digits or "-") and caseNumber (1 to 64 characters)');
  }
  return { serviceItem: item, caseNumber: number, operator: typeof operator === 'string' && operator !== '' ? operator.slice(0, 200) : null };
}

/** Whom a read is about. */
export interface Subject {
  kind: 'person' | 'organisation';
  code: string;
}

const subjectOf = (l: StoredLicence | undefined): Subject | null => (l ? { kind: l.holderCodeType === '111' ? 'person' : 'organisation', code: l.holderCode } : null);

export class LicenceReads {
  readonly #o: LicenceReadsOptions;

  constructor(options: LicenceReadsOptions) {
    this.#o = options;
  }

  /**
   * Reads licences for `caller` for a case: `fetch` finds them; those the caller may not see are left out, and if
   * that leaves none of those found, the read is refused (ZT_ERR_LICENCE_READ_FORBIDDEN). Either way the read is
   * recorded before anything is returned.
   */
  async read(
    caller: Caller,
    protocol: 'http' | 'grpc',
    purpose: LicenceReadPurpose,
    asked: Subject | null,
    fetch: () => Promise<StoredLicence[]>,
  ): Promise<StoredLicence[]> {
    const started = performance.now();
    const accessId = this.#o.newAccessId();
    let found: StoredLicence[] = [];
    try {
      found = await fetch();
      const allowed: StoredLicence[] = [];
      for (const l of found) if (await this.#maySee(caller.uscc, purpose.caseNumber, l)) allowed.push(l);
      if (found.length > 0 && allowed.length === 0) {
        throw new ZtError('ZT_ERR_LICENCE_READ_FORBIDDEN', `${caller.uscc} neither issues these licences nor has case ${purpose.caseNumber} of their holder open`);
      }
      await this.#record(accessId, caller, protocol, purpose, subjectOf(allowed[0]) ?? asked, allowed, started, null);
      return allowed;
    } catch (error) {
      const zt = isZtError(error) ? error : new ZtError('ZT_ERR_INTERNAL', 'the licence read failed', { cause: error });
      await this.#record(accessId, caller, protocol, purpose, subjectOf(found[0]) ?? asked, [], started, zt.code as ErrorCode).catch(() => undefined);
      throw zt;
    }
  }

  async #maySee(department: string, caseNumber: string, licence: StoredLicence): Promise<boolean> {
    let issuers: readonly string[] = [];
    try {
      issuers = this.#o.registry.type(licence.typeCode).issuers;
    } catch {
      issuers = [];
    }
    if (issuers.includes(department)) return true;
    const { rows } = await this.#o.db.query('SELECT 1 FROM intake_cases WHERE requester = $1 AND case_number = $2 AND applicant_code = $3 LIMIT 1', [
      department,
      caseNumber,
      licence.holderCode,
    ]);
    return rows.length > 0;
  }

  async #record(
    id: string,
    caller: Caller,
    protocol: 'http' | 'grpc',
    purpose: LicenceReadPurpose,
    subject: Subject | null,
    returned: StoredLicence[],
    started: number,
    errorCode: ErrorCode | null,
  ): Promise<void> {
    const types = [...new Set(returned.map((l) => l.typeCode))];
    await this.#o.log.write({
      id,
      requester: caller.uscc,
      operator: purpose.operator,
      subjectKind: subject?.kind ?? null,
      subjectCode: subject?.code ?? null,
      resource: types.length === 1 ? `e-licence:${types[0]}` : 'e-licence',
      itemsRequested: ['licence'],
      ...(errorCode ? {} : { itemsReturned: returned.length > 0 ? ['licence'] : [] }),
      serviceItem: purpose.serviceItem,
      caseNumber: purpose.caseNumber,
      decision: errorCode ? (errorCode === 'ZT_ERR_INTERNAL' || errorCode === 'ZT_ERR_STORAGE_UNAVAILABLE' ? 'error' : 'deny') : 'permit',
      // A permitted read binds what it returned: the SM3 of the identifiers (each names one signed version).
      ...(errorCode ? { errorCode } : { ruleIds: [], policyRevision: LICENCE_ACCESS_POLICY, responseDigest: sm3(Buffer.from(canonicalJson(returned.map((l) => l.identifier)), 'utf8')) }),
      latencyMs: performance.now() - started,
      requestDigest: Buffer.from(caller.requestDigest, 'hex'),
      certificateSm3: Buffer.from(caller.certificateSm3, 'hex'),
      protocol,
    });
  }
}
