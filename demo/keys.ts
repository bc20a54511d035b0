// The demo city's signing keys. Every step of the demand procedure is signed by the acting department, so the demo
// needs a platform CA and a key and certificate per demo department. On first start with ZT_SEED_DEMO and no CA, a
// demo CA is created in ZT_CA_DIR, its root key apart in demo-ca-root/ beside it (as `ca init` keeps a real root key
// apart; serve never reads it); the departments' keys are enrolled with it and written under
// <ZT_DATA_DIR>/demo-keys/<USCC>.key.pem and .cert.pem (mode 0600), where a user can take them to sign requests.
// These are evaluation keys: a real department generates its own key and sends a CSR (zhengtong ca enrol --csr).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CA_FILES, initPlatformCa, platformCaExists, type PlatformCa } from '../certs/ca/index.js';
import { InProcessSm2Signer, type Signer } from '../certs/signer/index.js';
import { parseCertificate } from '../certs/x509/index.js';
import { DEMO_DEPARTMENTS } from './departments.js';

export const DEMO_CA_ORGANISATION = '沈阳市大数据管理局（演示）';

/** Where the demo CA's root key goes: demo-ca-root/ beside the CA directory (<ZT_DATA_DIR>/demo-ca-root by default). */
export function demoRootKeyDirectory(caDir: string): string {
  return join(dirname(resolve(caDir)), 'demo-ca-root');
}

/** Creates a demo platform CA in `caDir` unless one is there; returns whether it did. */
export async function ensureDemoCa(caDir: string, publicUrl: string, rootKeyDir = demoRootKeyDirectory(caDir)): Promise<boolean> {
  if (platformCaExists(caDir)) return false;
  // The root key of an earlier demo CA whose directory was removed signs nothing any more; a new demo CA replaces it.
  if (!Object.values(CA_FILES).some((f) => existsSync(join(caDir, f)))) rmSync(join(rootKeyDir, CA_FILES.rootKey), { force: true });
  await initPlatformCa({ dir: caDir, rootKeyDir, organisation: DEMO_CA_ORGANISATION, province: '辽宁省', locality: '沈阳市', publicUrl });
  return true;
}

export function demoKeysDirectory(dataDir: string): string {
  return join(dataDir, 'demo-keys');
}

export interface DemoKeyFiles {
  key: string;
  certificate: string;
}

export function demoKeyFiles(dataDir: string, uscc: string): DemoKeyFiles {
  const dir = demoKeysDirectory(dataDir);
  return { key: join(dir, `${uscc}.key.pem`), certificate: join(dir, `${uscc}.cert.pem`) };
}

/** Signers for the demo departments: the key on disk if there is one, else a new key enrolled with the CA. */
export class DemoSigners {
  readonly #signers = new Map<string, Promise<Signer>>();

  constructor(
    private readonly ca: PlatformCa,
    private readonly dataDir: string,
  ) {}

  signerFor(uscc: string): Promise<Signer> {
    let signer = this.#signers.get(uscc);
    if (!signer) {
      signer = this.#load(uscc);
      this.#signers.set(uscc, signer);
    }
    return signer;
  }

  /** Makes sure every demo department has a key and certificate on disk; returns the directory. */
  async enrolAll(): Promise<string> {
    for (const d of DEMO_DEPARTMENTS) await this.signerFor(d.uscc);
    return demoKeysDirectory(this.dataDir);
  }

  async #load(uscc: string): Promise<Signer> {
    const files = demoKeyFiles(this.dataDir, uscc);
    if (existsSync(files.key) && existsSync(files.certificate)) {
      const certificate = parseCertificate(readFileSync(files.certificate, 'utf8'));
      // A key enrolled with an earlier CA (the CA directory was replaced) is enrolled again.
      if (certificate.issuer === this.ca.issuing.subject && certificate.notAfter.getTime() > Date.now()) {
        return new InProcessSm2Signer({ privateKey: readFileSync(files.key, 'utf8'), certificate: new Uint8Array(certificate.rawData) });
      }
    }
    const department = DEMO_DEPARTMENTS.find((d) => d.uscc === uscc);
    if (!department) throw new RangeError(`${uscc} is not a demo department`);
    const { certificate, privateKeyPem } = await this.ca.enrolWithGeneratedKey({ uscc, name: department.name });
    mkdirSync(demoKeysDirectory(this.dataDir), { recursive: true, mode: 0o700 });
    writeFileSync(files.key, privateKeyPem, { mode: 0o600 });
    chmodSync(files.key, 0o600);
    writeFileSync(files.certificate, certificate.pem, { mode: 0o644 });
    return new InProcessSm2Signer({ privateKey: privateKeyPem, certificate: new Uint8Array(parseCertificate(certificate.pem).rawData) });
  }
}
