// Signed transitions on an embedded database: each way a step's signature can be missing or wrong gets its own
// code, the verified signature is kept with the step, and what is kept verifies again offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelopeJson, envelopeToJson, signEnvelope, verifyEnvelope } from '../../certs/envelope/index.js';
import { InProcessSm2Signer } from '../../certs/signer/index.js';
import { generateSm2KeyPair } from '../../certs/sm2/sm2.js';
import { parseCertificate } from '../../certs/x509/index.js';
import { migrate, PgDatabase, PgliteDatabase, type Database } from '../../core/storage/index.js';
import { describeWithService, postgresUrl, uniqueName } from '../../test/support/services.js';
import { makeTestCaDir, rejectionCode } from '../../test/support/ca.js';
import { makeSigningWorld, type SigningWorld } from '../../test/support/signing.js';
import { DepartmentService, SqlDepartmentStore } from '../departments/index.js';
import { DEMO_DEPARTMENTS, DEMO_RESOURCES } from '../../demo/index.js';
import { CatalogueService } from './catalogue-service.js';
import { DemandService } from './demand-service.js';
import type { DemandRegistration } from './demand.js';
import { signTransition, transitionStatement } from './signed-transitions.js';
import { SqlDemandStore } from './sql/sql-demand-store.js';
import { SqlResourceStore } from './sql/sql-resource-store.js';
import { PlatformCa } from '../../certs/ca/index.js';

const GA = '11210100001000010R'; // provider of the population resource
const YS = '112101000010000537'; // the business-environment bureau
const MZ = '11210100001000045C';
const population = DEMO_RESOURCES.find((r) => r.code === '210100-GA-0001')!;

let db: Database;
let world: SigningWorld;
let demands: DemandService;
let now = Date.now();

const registration = (over: Partial<DemandRegistration> = {}): DemandRegistration => ({
  requester: YS,
  resource: population.code,
  items: ['name', 'idNumber'],
  serviceItem: 'QYKB-SIGN-0001',
  legalBasis: { title: '《优化营商环境条例》' },
  expectedDailyVolume: 10,
  validTo: '2099-12-31',
  ...over,
});

async function registerSigned(over: Partial<DemandRegistration> = {}) {
  const reg = registration(over);
  return demands.register(reg, { proof: await world.sign({ kind: 'register', actor: reg.requester, content: reg }) });
}

describe('transition statements', () => {
  it('are the same bytes for JSON-style and protobuf-style input (null, "", [] and {} are absent)', () => {
    const json = transitionStatement({ kind: 'approve', demandId: 'd-1', actor: ' 11210100001000010r ', content: { terms: { items: ['name'], dailyQuota: null } } });
    const proto = transitionStatement({ kind: 'approve', demandId: 'd-1', actor: GA, content: { terms: { items: ['name'], dailyQuota: null, validUntil: '' } } });
    expect(json.equals(proto)).toBe(true);
    expect(json.toString()).toBe('{"actor":"11210100001000010R","content":{"terms":{"items":["name"]}},"demandId":"d-1","kind":"approve","schema":"zhengtong/demand-transition/v1"}');
    // Fields outside the step's own are not part of what is signed.
    expect(transitionStatement({ kind: 'withdraw', demandId: 'd-1', actor: YS, content: { reason: 'r', actor: YS, extra: 1 } }).toString()).not.toContain('extra');
  });
});

function signedTransitionsSuite(open: () => Promise<Database>, dispose: () => Promise<void>): void {
beforeAll(async () => {
  db = await open();
  await migrate(db);
  world = await makeSigningWorld(db, { clock: () => now });
  const departments = new DepartmentService(db, new SqlDepartmentStore(db));
  for (const d of DEMO_DEPARTMENTS) await departments.register(d);
  const resources = new SqlResourceStore(db);
  await new CatalogueService(db, resources, departments).publish(population);
  demands = new DemandService(db, new SqlDemandStore(db), resources, departments, { authenticator: world.authenticator });
});

afterAll(async () => {
  await db?.close();
  world?.remove();
  await dispose();
});

describe('signed transitions', () => {
  it('keeps the verified signature with every step, and what is kept verifies again offline', async () => {
    const demand = await registerSigned();
    const input = { actor: GA, terms: { items: ['name'], dailyQuota: 100 } };
    await demands.approve(demand.id, input, { proof: await world.sign({ kind: 'approve', demandId: demand.id, actor: GA, content: input }) });
    const history = await demands.history(demand.id);
    expect(history.map((t) => [t.to, t.actor, t.signature?.certificateSerial !== undefined])).toEqual([
      ['pending', YS, true],
      ['approved', GA, true],
    ]);
    for (const t of history) {
      const kept = t.signature!;
      const certificate = parseCertificate((await world.ca.status(kept.certificateSerial)).pem);
      const { loadSm2PublicKey } = await import('../../certs/sm2/sm2.js');
      const publicKey = loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData));
      await expect(verifyEnvelope(decodeEnvelopeJson(kept.envelope), Buffer.from(kept.statement, 'utf8'), { publicKey })).resolves.toBeUndefined();
      expect(JSON.parse(kept.statement)).toMatchObject({ kind: t.to === 'pending' ? 'register' : 'approve', actor: t.actor });
    }
  });

  it('refuses a step without a signature, or with something that is not an envelope', async () => {
    expect(await rejectionCode(demands.register(registration()))).toBe('ZT_ERR_TRANSITION_UNSIGNED');
    expect(await rejectionCode(demands.register(registration(), { proof: 'signed, honestly' }))).toBe('ZT_ERR_TRANSITION_UNSIGNED');
  });

  it('refuses a signature that does not carry its certificate', async () => {
    const reg = registration();
    const envelope = await world.sign({ kind: 'register', actor: YS, content: reg });
    const { certificate: _dropped, ...signer } = envelope.signer;
    expect(await rejectionCode(demands.register(reg, { proof: { ...envelope, signer } }))).toBe('ZT_ERR_TRANSITION_UNSIGNED');
  });

  it("refuses a step signed with another department's certificate", async () => {
    const reg = registration();
    const proof = await signTransition(await world.signers.signerFor(MZ), { kind: 'register', actor: YS, content: reg });
    expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_SIGNER_MISMATCH');
  });

  it('refuses a signature over other content (tampered), or over another demand', async () => {
    const reg = registration();
    const proof = await world.sign({ kind: 'register', actor: YS, content: reg });
    expect(await rejectionCode(demands.register({ ...reg, expectedDailyVolume: 100000 }, { proof }))).toBe('ZT_ERR_SIGNATURE_INVALID');
    const a = await registerSigned();
    const b = await registerSigned();
    const approveA = await world.sign({ kind: 'approve', demandId: a.id, actor: GA, content: {} });
    expect(await rejectionCode(demands.approve(b.id, { actor: GA }, { proof: approveA }))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect((await demands.get(b.id)).state).toBe('pending');
  });

  it('refuses a signature made too long ago or too far ahead', async () => {
    const reg = registration();
    const proof = await world.sign({ kind: 'register', actor: YS, content: reg });
    now = Date.now() + 301_000;
    try {
      expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_TRANSITION_STALE');
      now = Date.now() - 301_000;
      expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_TRANSITION_STALE');
    } finally {
      now = Date.now();
    }
  });

  it('refuses a replayed signature, and records nothing for it', async () => {
    const reg = registration({ serviceItem: 'QYKB-REPLAY-1' });
    const proof = await world.sign({ kind: 'register', actor: YS, content: reg });
    await demands.register(reg, { proof });
    expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_TRANSITION_REPLAYED');
    const count = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM demands WHERE service_item = 'QYKB-REPLAY-1'`);
    expect(count.rows[0]!.n).toBe(1);
  });

  it('refuses a certificate of another CA, and a revoked one', async () => {
    const reg = registration();
    // A CA the platform does not trust, issuing a certificate for the same department.
    const foreignDir = await makeTestCaDir();
    try {
      const foreign = new PlatformCa({ db, material: foreignDir.material, certificateDays: 30, publicUrl: 'http://other.example' });
      const issued = await foreign.enrolWithGeneratedKey({ uscc: YS, name: '冒名的营商局' });
      const signer = new InProcessSm2Signer({ privateKey: issued.privateKeyPem, certificate: new Uint8Array(parseCertificate(issued.certificate.pem).rawData) });
      const proof = await signTransition(signer, { kind: 'register', actor: YS, content: reg });
      expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    } finally {
      foreignDir.remove();
    }
    // A certificate of the platform CA for this department, then revoked.
    const revoked = await world.ca.enrolWithGeneratedKey({ uscc: YS, name: '沈阳市营商环境建设局' });
    const signer = new InProcessSm2Signer({ privateKey: revoked.privateKeyPem, certificate: new Uint8Array(parseCertificate(revoked.certificate.pem).rawData) });
    await demands.register(reg, { proof: await signTransition(signer, { kind: 'register', actor: YS, content: reg }) });
    await world.ca.revoke(revoked.certificate.serial, 'keyCompromise');
    world.trust.clear();
    const proof = await signTransition(signer, { kind: 'register', actor: YS, content: reg });
    expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_CERT_REVOKED');
  });

  it('refuses an envelope signed by a key that is not the certificate’s', async () => {
    const reg = registration();
    const genuine = await world.sign({ kind: 'register', actor: YS, content: reg });
    const impostor = new InProcessSm2Signer({ privateKey: generateSm2KeyPair().privateKey });
    const forged = await signEnvelope(impostor, transitionStatement({ kind: 'register', actor: YS, content: reg }));
    const proof = { ...forged, signer: genuine.signer };
    expect(await rejectionCode(demands.register(reg, { proof }))).toBe('ZT_ERR_SIGNATURE_INVALID');
    expect(envelopeToJson(proof).signer.certificate).toBeDefined();
  });

  it('signs an import once over the file; every row must be the signer’s', async () => {
    const { demandsFromJson } = await import('./lists.js');
    const { sm3 } = await import('../../certs/sm2/sm2.js');
    const document = Buffer.from(JSON.stringify({ demands: [registration({ serviceItem: 'QYKB-IMPORT-1' }), registration({ serviceItem: 'QYKB-IMPORT-2' })] }));
    const documentSm3 = sm3(document).toString('hex');
    const batch = demandsFromJson(JSON.parse(document.toString()));
    expect(await rejectionCode(demands.import(batch, { documentSm3 }))).toBe('ZT_ERR_TRANSITION_UNSIGNED');
    const byOther = await world.sign({ kind: 'import', actor: MZ, content: { documentSm3 } });
    expect(await rejectionCode(demands.import(batch, { documentSm3, proof: byOther }))).toBe('ZT_ERR_IMPORT_INVALID');
    const proof = await world.sign({ kind: 'import', actor: YS, content: { documentSm3 } });
    expect(await rejectionCode(demands.import(batch, { documentSm3: sm3(Buffer.from('other')).toString('hex'), proof }))).toBe('ZT_ERR_SIGNATURE_INVALID');
    const imported = await demands.import(batch, { documentSm3, proof });
    expect(imported).toHaveLength(2);
    const keys = await Promise.all(imported.map(async (d) => (await demands.history(d.id))[0]!.signature!.statementKey));
    expect(new Set(keys).size).toBe(1);
    expect(await rejectionCode(demands.import(batch, { documentSm3, proof }))).toBe('ZT_ERR_TRANSITION_REPLAYED');
  });
});
}

describe('signed transitions on PGlite', () => {
  signedTransitionsSuite(
    () => PgliteDatabase.open({ dataDir: undefined }),
    async () => undefined,
  );
});

describeWithService('postgres', 'signed transitions on PostgreSQL', () => {
  const schema = uniqueName('zt_signed');
  signedTransitionsSuite(
    () => PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema }),
    async () => {
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  );
});
