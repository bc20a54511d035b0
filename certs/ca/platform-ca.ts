// The platform CA (平台CA): enrols departments (from their CSR, or with a generated key for demos), revokes, publishes
// CRLs and answers certificate status. Issued certificates and revocations live in the database, so every gateway
// instance agrees; a revocation is announced on the event bus (through the outbox) so trust caches drop it at once.
import { randomBytes, type KeyObject } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import type { Database } from '../../core/storage/index.js';
import { generateSm2KeyPair, sm3 } from '../sm2/sm2.js';
import {
  createCertificate,
  createCrl,
  EXTENDED_KEY_USAGE,
  exportPem,
  parseCsr,
  readCrlNumber,
  type CaSigner,
  type RevocationReason,
  type x509,
} from '../x509/index.js';
import { ROOT_CRL_DAYS, type PlatformCaMaterial } from './ca-files.js';

export { REVOCATION_TOPIC as CERTIFICATE_EVENTS_TOPIC } from '../trust/trust-store.js';
import { REVOCATION_TOPIC as CERTIFICATE_EVENTS_TOPIC } from '../trust/trust-store.js';

export const REVOCATION_REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
];

export type CertificateStatus = 'good' | 'revoked' | 'expired';

export interface IssuedCertificate {
  serial: string;
  subject: string;
  departmentUscc: string | null;
  fingerprintSm3: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
  status: CertificateStatus;
  pem: string;
}

export interface EnrolOptions {
  uscc: string;
  /** Department name for the subject; the CA sets the subject itself rather than trusting the request's. */
  name: string;
}

interface Row {
  serial: string;
  subject: string;
  department_uscc: string | null;
  fingerprint_sm3: string;
  der: Buffer;
  not_before: Date;
  not_after: Date;
  issued_at: Date;
  revoked_at: Date | null;
  revocation_reason: RevocationReason | null;
}

const COLUMNS = 'serial, subject, department_uscc, fingerprint_sm3, der, not_before, not_after, issued_at, revoked_at, revocation_reason';
const DAY_MS = 24 * 3600 * 1000;
/** How long a published CRL stays current; it is re-signed sooner whenever a certificate is revoked. */
const CRL_LIFETIME_MS = DAY_MS;

export function normaliseSerial(serial: string): string {
  const s = serial.trim().replace(/^0x/i, '').replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '');
  if (!/^[0-9A-F]{1,40}$/.test(s)) throw new ZtError('ZT_ERR_REQUEST_INVALID', `${JSON.stringify(serial)} is not a hexadecimal certificate serial number`);
  return s.length % 2 ? `0${s}` : s;
}

export interface PlatformCaOptions {
  db: Database;
  material: PlatformCaMaterial;
  certificateDays: number;
  publicUrl: string;
  /** Called after a commit that wrote to the outbox. */
  onOutboxWrite?: () => void;
}

export interface PublishedCrl {
  crl: x509.X509Crl;
  der: Buffer;
  pem: string;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
}

export class PlatformCa {
  readonly #db: Database;
  readonly #material: PlatformCaMaterial;
  readonly #days: number;
  readonly #publicUrl: string;
  readonly #onOutboxWrite: () => void;
  #crl: Promise<PublishedCrl> | null = null;
  #rootCrl: PublishedCrl | null = null;

  constructor(options: PlatformCaOptions) {
    this.#db = options.db;
    this.#material = options.material;
    this.#days = options.certificateDays;
    this.#publicUrl = options.publicUrl.replace(/\/$/, '');
    this.#onOutboxWrite = options.onOutboxWrite ?? (() => undefined);
  }

  /** The CA directory (ZT_CA_DIR) the material was loaded from. */
  get directory(): string {
    return this.#material.dir;
  }
  get root(): x509.X509Certificate {
    return this.#material.root.certificate;
  }
  get issuing(): x509.X509Certificate {
    return this.#material.issuing.certificate;
  }

  /** Issues a department certificate for the public key of a CSR whose self-signature verifies. */
  async enrolFromCsr(csr: string | Uint8Array, options: EnrolOptions): Promise<IssuedCertificate> {
    const request = await parseCsr(csr);
    return this.#issue(request.publicKey, options);
  }

  /** For demos: generates the department's key here and returns it with the certificate. */
  async enrolWithGeneratedKey(options: EnrolOptions): Promise<{ certificate: IssuedCertificate; privateKeyPem: string }> {
    const keys = generateSm2KeyPair();
    const certificate = await this.#issue(keys.publicKey, options);
    return { certificate, privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  }

  async #issue(publicKey: Parameters<typeof createCertificate>[0]['publicKey'], options: EnrolOptions): Promise<IssuedCertificate> {
    const uscc = options.uscc.trim().toUpperCase();
    if (!isValidUscc(uscc)) throw new ZtError('ZT_ERR_ID_INVALID_USCC', `${JSON.stringify(options.uscc)} is not a valid unified social credit code (GB 32100)`);
    const name = options.name.trim();
    if (name.length === 0 || name.length > 64) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the department name must have 1 to 64 characters');
    const issuer = this.#material.issuing;
    const now = new Date();
    const notBefore = new Date(now.getTime() - 60_000);
    const notAfter = new Date(Math.min(now.getTime() + this.#days * DAY_MS, issuer.certificate.notAfter.getTime()));
    // The department's certificate sits in the same province and city as the platform.
    const attribute = (oid: string): string | undefined => issuer.certificate.subjectName.getField(oid)[0];
    const certificate = await createCertificate({
      issuer,
      publicKey,
      serialNumber: `7${randomBytes(15).toString('hex')}`, // 128 bits of randomness, positive
      subject: {
        country: 'CN',
        ...(attribute('2.5.4.8') ? { province: attribute('2.5.4.8')! } : {}),
        ...(attribute('2.5.4.7') ? { locality: attribute('2.5.4.7')! } : {}),
        organisation: name,
        commonName: name,
        serialNumber: uscc,
      },
      notBefore,
      notAfter,
      // A department signs requests, replies and records: signature and non-repudiation (GM/T 0015 signing certificate).
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      extendedKeyUsage: [EXTENDED_KEY_USAGE.clientAuth],
      basicConstraints: { ca: false },
      crlDistributionPoints: [`${this.#publicUrl}/v1/ca/crl`],
      organisationIdentifiers: { uscc },
    });
    const der = Buffer.from(certificate.rawData);
    const serial = normaliseSerial(certificate.serialNumber);
    await this.#db.query(
      `INSERT INTO issued_certificates (serial, issuer_serial, subject, department_uscc, fingerprint_sm3, der, not_before, not_after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [serial, normaliseSerial(issuer.certificate.serialNumber), certificate.subject, uscc, sm3(der).toString('hex'), der, certificate.notBefore, certificate.notAfter],
    );
    return this.status(serial);
  }

  async status(serial: string): Promise<IssuedCertificate> {
    const s = normaliseSerial(serial);
    const { rows } = await this.#db.query<Row>(`SELECT ${COLUMNS} FROM issued_certificates WHERE serial = $1`, [s]);
    const row = rows[0];
    if (!row) throw new ZtError('ZT_ERR_CERT_NOT_FOUND', `the platform CA issued no certificate with serial ${s}`);
    return toIssued(row);
  }

  async listForDepartment(uscc: string): Promise<IssuedCertificate[]> {
    const { rows } = await this.#db.query<Row>(`SELECT ${COLUMNS} FROM issued_certificates WHERE department_uscc = $1 ORDER BY issued_at`, [uscc]);
    return rows.map(toIssued);
  }

  /** Revokes a certificate (idempotent for the same reason) and announces it to every instance. */
  async revoke(serial: string, reason: RevocationReason): Promise<IssuedCertificate> {
    if (!REVOCATION_REASONS.includes(reason)) {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', `unknown revocation reason ${JSON.stringify(reason)}; one of ${REVOCATION_REASONS.join(', ')}`);
    }
    const s = normaliseSerial(serial);
    const revoked = await this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE issued_certificates SET revoked_at = now(), revocation_reason = $2 WHERE serial = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
        [s, reason],
      );
      if (rows.length === 0) return null;
      const row = rows[0]!;
      await enqueueEvent(tx, CERTIFICATE_EVENTS_TOPIC, {
        key: row.serial,
        value: JSON.stringify({ type: 'certificate.revoked', serial: row.serial, fingerprintSm3: row.fingerprint_sm3, reason, revokedAt: row.revoked_at }),
        headers: { 'zt-event-type': 'certificate.revoked' },
      });
      return row;
    });
    if (revoked) {
      this.#crl = null;
      this.#onOutboxWrite();
      return toIssued(revoked);
    }
    return this.status(s); // unknown serial throws; an already revoked one is returned as it is
  }

  /** Forgets the cached CRL, e.g. when another instance revoked a certificate. */
  invalidateCrl(): void {
    this.#crl = null;
  }

  /** The issuing CA's current CRL, re-signed after each revocation and before the last one's nextUpdate. */
  crl(): Promise<PublishedCrl> {
    const fresh = (p: PublishedCrl) => p.nextUpdate.getTime() - Date.now() > CRL_LIFETIME_MS / 2;
    const current = this.#crl;
    if (current) {
      return current.then((p) => (fresh(p) ? p : ((this.#crl = null), this.crl())));
    }
    const building = this.#buildCrl(this.#material.issuing, CRL_LIFETIME_MS);
    this.#crl = building;
    building.catch(() => {
      if (this.#crl === building) this.#crl = null;
    });
    return building;
  }

  /**
   * The root CA's CRL (it lists revoked issuing CAs; there are none unless one was compromised), as last signed with
   * the root key (`ca init`, `ca crl --root --root-key`): this instance does not hold that key, so it publishes the file.
   */
  async rootCrl(): Promise<PublishedCrl> {
    const crl = await this.#material.rootCrl();
    if (!crl) {
      throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', `no root CRL in ${this.#material.dir}; sign one with \`zhengtong ca crl --root --root-key FILE\``);
    }
    if (this.#rootCrl?.crl !== crl) this.#rootCrl = published(crl);
    return this.#rootCrl;
  }

  /**
   * Signs a new root CRL with the root CA's key, given for this one operation (it is kept offline). Its number follows
   * both the database's count and the CRL now in the CA directory. The caller writes it there (writeRootCrl).
   */
  async signRootCrl(rootKey: KeyObject, options: { days?: number } = {}): Promise<PublishedCrl> {
    const current = await this.#material.rootCrl().catch(() => null);
    const next = (current ? (readCrlNumber(current) ?? 0n) : 0n) + 1n;
    return this.#buildCrl({ certificate: this.root, privateKey: rootKey }, (options.days ?? ROOT_CRL_DAYS) * DAY_MS, next);
  }

  async #buildCrl(issuer: CaSigner, lifetimeMs: number, atLeast = 1n): Promise<PublishedCrl> {
    const issuerSerial = normaliseSerial(issuer.certificate.serialNumber);
    const { entries, crlNumber } = await this.#db.transaction(async (tx) => {
      const { rows: numbers } = await tx.query<{ last_number: number }>(
        `INSERT INTO crl_numbers (issuer_serial, last_number) VALUES ($1, $2)
         ON CONFLICT (issuer_serial) DO UPDATE SET last_number = GREATEST(crl_numbers.last_number + 1, $2) RETURNING last_number`,
        [issuerSerial, atLeast.toString()],
      );
      const { rows } = await tx.query<{ serial: string; revoked_at: Date; revocation_reason: RevocationReason }>(
        'SELECT serial, revoked_at, revocation_reason FROM issued_certificates WHERE issuer_serial = $1 AND revoked_at IS NOT NULL AND not_after > now() ORDER BY serial',
        [issuerSerial],
      );
      return { entries: rows, crlNumber: BigInt(numbers[0]!.last_number) };
    });
    const thisUpdate = new Date(Date.now() - 60_000);
    const nextUpdate = new Date(thisUpdate.getTime() + lifetimeMs);
    const crl = await createCrl({
      issuer,
      thisUpdate,
      nextUpdate,
      crlNumber,
      entries: entries.map((e) => ({ serialNumber: e.serial, revocationDate: e.revoked_at, reason: e.revocation_reason })),
    });
    return { crl, der: Buffer.from(crl.rawData), pem: exportPem(crl), thisUpdate, nextUpdate, crlNumber };
  }
}

function published(crl: x509.X509Crl): PublishedCrl {
  const nextUpdate = crl.nextUpdate;
  if (!nextUpdate) throw new ZtError('ZT_ERR_CRL_MALFORMED', 'the root CRL has no nextUpdate');
  return { crl, der: Buffer.from(crl.rawData), pem: exportPem(crl), thisUpdate: crl.thisUpdate, nextUpdate, crlNumber: readCrlNumber(crl) ?? 0n };
}

function toIssued(row: Row): IssuedCertificate {
  const expired = row.not_after.getTime() <= Date.now();
  return {
    serial: row.serial,
    subject: row.subject,
    departmentUscc: row.department_uscc,
    fingerprintSm3: row.fingerprint_sm3,
    notBefore: row.not_before,
    notAfter: row.not_after,
    issuedAt: row.issued_at,
    revokedAt: row.revoked_at,
    revocationReason: row.revocation_reason,
    status: row.revoked_at ? 'revoked' : expired ? 'expired' : 'good',
    pem: `-----BEGIN CERTIFICATE-----\n${row.der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
  };
}

