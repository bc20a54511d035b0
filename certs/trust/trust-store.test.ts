import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventBus, type Subscription } from '../../core/events/index.js';
import { createLogger } from '../../core/logging/index.js';
import { OutboxRelay } from '../../core/outbox/index.js';
import { PgDatabase, type PgliteDatabase } from '../../core/storage/index.js';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { makeTestCaDir, openMigratedDatabase, randomUscc, rejectionCode, waitUntil, type TestCaDir } from '../../test/support/ca.js';
import { describeWithService, kafkaBrokers, postgresUrl, uniqueName } from '../../test/support/services.js';
import { PlatformCa } from '../ca/index.js';
import { generateSm2KeyPair, loadSm2PrivateKey, sm2Sign, sm2Verify } from '../sm2/sm2.js';
import { createCertificate, EXTENDED_KEY_USAGE, exportPem, parseCertificate, x509 } from '../x509/index.js';
import { REVOCATION_TOPIC, TrustStore } from './index.js';

const DAY = 86_400_000;

describe('TrustStore over the platform CA (PGlite, in-process bus)', () => {
  let caDir: TestCaDir;
  let db: PgliteDatabase;
  let bus: MemoryEventBus;
  let relay: OutboxRelay;
  let ca: PlatformCa;
  let store: TrustStore;
  let subscription: Subscription;
  let crlCalls = 0;
  const heard: string[] = [];

  const newStore = () =>
    new TrustStore({
      trustAnchors: [ca.root],
      intermediates: [ca.issuing],
      crls: async () => {
        crlCalls++;
        return [(await ca.crl()).crl, (await ca.rootCrl()).crl];
      },
    });

  beforeAll(async () => {
    // The CA was made 30 days ago, so that certificates which have already expired can still lie inside its validity.
    caDir = await makeTestCaDir({ now: new Date(Date.now() - 30 * DAY) });
    db = await openMigratedDatabase();
    bus = new MemoryEventBus();
    relay = new OutboxRelay({ db, bus, logger: createLogger({ level: 'silent', instanceId: 'trust-test' }), intervalMs: 50 });
    ca = new PlatformCa({ db, material: caDir.material, certificateDays: 365, publicUrl: 'http://pki.zt.test', onOutboxWrite: () => relay.nudge() });
    store = newStore();
    subscription = await store.listen(bus, 'unit', (event) => {
      heard.push(event.serial);
      ca.invalidateCrl();
    });
    await subscription.ready;
    relay.start();
  });

  afterAll(async () => {
    await relay?.drainAndStop(2000);
    await bus?.close();
    await db?.close();
    caDir?.remove();
  });

  it('validates once: publicKey, uscc, serial, fingerprint and validUntil; then answers from the cache', async () => {
    const uscc = randomUscc();
    const { certificate, privateKeyPem } = await ca.enrolWithGeneratedKey({ uscc, name: '沈阳市民政局' });
    const calls = crlCalls;
    const { hits, misses, size } = store.stats;

    const trusted = await store.validate(certificate.pem);
    expect(trusted.uscc).toBe(uscc);
    expect(trusted.serial).toBe(certificate.serial);
    expect(trusted.fingerprintSm3).toBe(certificate.fingerprintSm3);
    expect(trusted.validUntil.getTime()).toBe(certificate.notAfter.getTime()); // the leaf expires first on the chain
    expect(trusted.certificate.subject).toBe(certificate.subject);
    // The public key is the department's: a signature by its private key verifies with it (standard SM2 ID).
    expect(trusted.publicKey.type).toBe('public');
    const message = Buffer.from('请求: 查询营业执照');
    expect(sm2Verify(trusted.publicKey, message, sm2Sign(loadSm2PrivateKey(privateKeyPem), message))).toBe(true);
    expect(sm2Verify(trusted.publicKey, Buffer.from('another message'), sm2Sign(loadSm2PrivateKey(privateKeyPem), message))).toBe(false);
    expect(crlCalls).toBe(calls + 1);
    expect(store.stats).toEqual({ size: size + 1, hits, misses: misses + 1 });

    // Again, as PEM, DER and a parsed object: cache hits, the CRLs are not fetched again.
    const der = Buffer.from(parseCertificate(certificate.pem).rawData);
    expect(await store.validate(certificate.pem)).toBe(trusted);
    expect(await store.validate(der)).toBe(trusted);
    expect(await store.validate(parseCertificate(der))).toBe(trusted);
    expect(crlCalls).toBe(calls + 1);
    expect(store.stats).toEqual({ size: size + 1, hits: hits + 3, misses: misses + 1 });

    // Evicted, it is validated again (and the CRLs asked for again).
    expect(store.evict(trusted.fingerprintSm3)).toBe(true);
    expect(store.evict(trusted.fingerprintSm3)).toBe(false);
    const again = await store.validate(certificate.pem);
    expect(again).not.toBe(trusted);
    expect(again.serial).toBe(trusted.serial);
    expect(crlCalls).toBe(calls + 2);
  });

  it('validates a certificate once when asked for it concurrently', async () => {
    const { certificate } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '沈阳市公安局' });
    const calls = crlCalls;
    const results = await Promise.all(Array.from({ length: 8 }, () => store.validate(certificate.pem)));
    expect(crlCalls).toBe(calls + 1);
    for (const r of results) expect(r).toBe(results[0]);
    expect(await store.validate(certificate.pem)).toBe(results[0]);
    expect(crlCalls).toBe(calls + 1);
  });

  it('a concurrent failure reaches every caller and is not cached', async () => {
    const keys = generateSm2KeyPair();
    const selfSigned = await createCertificate({
      issuer: 'self',
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      subject: { country: 'CN', commonName: '自签名证书' },
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      keyUsage: ['digitalSignature'],
      basicConstraints: { ca: false },
    });
    const calls = crlCalls;
    const size = store.stats.size;
    const codes = await Promise.all(Array.from({ length: 3 }, () => rejectionCode(store.validate(selfSigned))));
    expect(codes).toEqual(['ZT_ERR_CERT_UNKNOWN_ISSUER', 'ZT_ERR_CERT_UNKNOWN_ISSUER', 'ZT_ERR_CERT_UNKNOWN_ISSUER']);
    expect(crlCalls).toBe(calls + 1);
    expect(store.stats.size).toBe(size);
    expect(await rejectionCode(store.validate(exportPem(selfSigned)))).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    expect(crlCalls).toBe(calls + 2);
  });

  it('refuses a certificate of another CA with ZT_ERR_CERT_UNKNOWN_ISSUER', async () => {
    const other = await makeTestCaDir();
    try {
      const keys = generateSm2KeyPair();
      const uscc = randomUscc();
      const certificate = await createCertificate({
        issuer: other.material.issuing,
        publicKey: keys.publicKey,
        subject: { country: 'CN', organisation: '冒名局', commonName: '冒名局', serialNumber: uscc },
        notBefore: new Date(Date.now() - 30_000), // the other CA was made just now
        notAfter: new Date(Date.now() + DAY),
        keyUsage: ['digitalSignature', 'nonRepudiation'],
        basicConstraints: { ca: false },
        organisationIdentifiers: { uscc },
      });
      // Same issuer name as ours (initPlatformCa names its CAs after the organisation), another key: not ours.
      expect(certificate.issuer).toBe(ca.issuing.subject);
      expect(await rejectionCode(store.validate(certificate))).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
      // Nor is the other CA's issuing certificate itself a way in.
      expect(await rejectionCode(store.validate(other.material.issuing.certificate))).toBe('ZT_ERR_CERT_UNKNOWN_ISSUER');
    } finally {
      other.remove();
    }
  });

  it('refuses an expired certificate with ZT_ERR_CERT_EXPIRED', async () => {
    const keys = generateSm2KeyPair();
    const uscc = randomUscc();
    const expired = await createCertificate({
      issuer: caDir.material.issuing,
      publicKey: keys.publicKey,
      subject: { country: 'CN', organisation: '过期局', commonName: '过期局', serialNumber: uscc },
      notBefore: new Date(Date.now() - 20 * DAY),
      notAfter: new Date(Date.now() - DAY),
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      extendedKeyUsage: [EXTENDED_KEY_USAGE.clientAuth],
      basicConstraints: { ca: false },
      organisationIdentifiers: { uscc },
    });
    const size = store.stats.size;
    expect(await rejectionCode(store.validate(expired))).toBe('ZT_ERR_CERT_EXPIRED');
    expect(store.stats.size).toBe(size);
  });

  it('a revocation delivered on the bus evicts the certificate; the next validate is ZT_ERR_CERT_REVOKED', async () => {
    const { certificate: victim } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '将被吊销局' });
    const { certificate: bystander } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '旁观局' });
    // A second store that does not listen: it shows what the event changes.
    const deaf = newStore();
    for (const s of [store, deaf]) {
      await s.validate(victim.pem);
      await s.validate(bystander.pem);
    }
    const hits = store.stats.hits;
    await store.validate(victim.pem);
    expect(store.stats.hits).toBe(hits + 1); // cached

    const size = store.stats.size;
    await ca.revoke(victim.serial, 'keyCompromise');
    await waitUntil(() => heard.includes(victim.serial), 5000, 'the revocation event');
    expect(store.stats.size).toBe(size - 1);
    const error = await store.validate(victim.pem).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ZT_ERR_CERT_REVOKED');
    expect((error as { details?: unknown }).details).toMatchObject({ reason: 'keyCompromise' });
    // Still refused on the next call (a failure is not cached as a success).
    expect(await rejectionCode(store.validate(victim.pem))).toBe('ZT_ERR_CERT_REVOKED');
    // The other certificate is untouched, still from the cache.
    const bystanderHits = store.stats.hits;
    expect((await store.validate(bystander.pem)).serial).toBe(bystander.serial);
    expect(store.stats.hits).toBe(bystanderHits + 1);
    // The deaf store still holds its cached answer: the event is what evicts.
    expect((await deaf.validate(victim.pem)).serial).toBe(victim.serial);
    deaf.clear();
    expect(await rejectionCode(deaf.validate(victim.pem))).toBe('ZT_ERR_CERT_REVOKED');
  });

  it('a revocation heard while a validation is in flight: that result is not cached, later callers are refused', async () => {
    const { certificate } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '竞态局' });
    // A store whose CRL fetch can be held after it has read the (pre-revocation) CRLs.
    let gate: Promise<void> | null = null;
    let release!: () => void;
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    const gated = new TrustStore({
      trustAnchors: [ca.root],
      intermediates: [ca.issuing],
      crls: async () => {
        const list = [(await ca.crl()).crl, (await ca.rootCrl()).crl];
        if (gate) {
          reached();
          await gate;
        }
        return list;
      },
    });
    const heardHere: string[] = [];
    const sub = await gated.listen(bus, 'gated', (event) => {
      heardHere.push(event.serial);
      ca.invalidateCrl();
    });
    await sub.ready;
    try {
      gate = new Promise<void>((r) => (release = r));
      const inFlight = gated.validate(certificate.pem); // reads the current CRL, then waits at the gate
      await atGate;
      expect(gated.stats.size).toBe(0);
      await ca.revoke(certificate.serial, 'keyCompromise');
      await waitUntil(() => heardHere.includes(certificate.serial), 5000, 'the revocation event');
      // Asked after the revocation was heard: must not share the validation that started before it.
      const after = gated.validate(certificate.pem).catch((e: unknown) => e);
      release();
      gate = null;
      // The call that began before the revocation may succeed; what it found must not outlive the revocation.
      await inFlight.catch(() => undefined);
      expect((await after as { code?: string }).code).toBe('ZT_ERR_CERT_REVOKED');
      expect(await rejectionCode(gated.validate(certificate.pem))).toBe('ZT_ERR_CERT_REVOKED');
    } finally {
      release?.();
      await sub.close();
    }
  });

  it('ignores events of other types on the revocation topic', async () => {
    const { certificate } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '其他事件局' });
    const trusted = await store.validate(certificate.pem);
    const before = heard.length;
    await bus.publish(REVOCATION_TOPIC, { key: 'x', value: JSON.stringify({ type: 'certificate.renewed', serial: certificate.serial, fingerprintSm3: trusted.fingerprintSm3 }) });
    // A real revocation published after it is handled, so the first one was handled (and ignored) by then.
    const { certificate: other } = await ca.enrolWithGeneratedKey({ uscc: randomUscc(), name: '其他事件局二' });
    await ca.revoke(other.serial, 'superseded');
    await waitUntil(() => heard.includes(other.serial), 5000, 'the revocation event');
    expect(heard.length).toBe(before + 1);
    expect(await store.validate(certificate.pem)).toBe(trusted);
  });
});

describeWithService('kafka', 'trust stores of two instances, through Kafka', () => {
  describeWithService('postgres', 'sharing a PostgreSQL schema and a platform CA', () => {
    const schema = uniqueName('zt_trust');
    const topicPrefix = `${uniqueName('zt-trust')}.`;
    let caDir: TestCaDir;
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      caDir = await makeTestCaDir();
      const common = { databaseUrl: postgresUrl!, databaseSchema: schema, kafkaBrokers, kafkaTopicPrefix: topicPrefix, caDir: caDir.dir };
      a = await startTestApp({ ...common, instanceId: 'trust-a' }, { seedDemo: false });
      b = await startTestApp({ ...common, instanceId: 'trust-b' }, { seedDemo: false });
    });

    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      try {
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.close();
      }
      caDir?.remove();
    });

    it('a revocation on instance A makes instance B refuse the cached certificate within seconds', async () => {
      expect(a.app.ctx.bus.kind).toBe('kafka');
      expect(a.app.ctx.db.kind).toBe('postgres');
      const { certificate } = await a.app.ctx.ca!.enrolWithGeneratedKey({ uscc: randomUscc(), name: '沈阳市市场监督管理局' });
      // B sees A's certificate (one database) and both cache their validation.
      expect((await b.app.ctx.ca!.status(certificate.serial)).status).toBe('good');
      for (const t of [a, b]) {
        const trust = t.app.ctx.trust!;
        const first = await trust.validate(certificate.pem);
        const hits = trust.stats.hits;
        expect(await trust.validate(certificate.pem)).toBe(first);
        expect(trust.stats.hits).toBe(hits + 1);
      }

      await a.app.ctx.ca!.revoke(certificate.serial, 'keyCompromise');
      const started = Date.now();
      let code: string | undefined;
      await waitUntil(
        async () => {
          code = await b.app.ctx.trust!.validate(certificate.pem).then(
            () => undefined,
            (e: { code?: string }) => e.code,
          );
          return code !== undefined;
        },
        10_000,
        'instance B to refuse the certificate revoked on instance A',
        100,
      );
      expect(code).toBe('ZT_ERR_CERT_REVOKED');
      expect(Date.now() - started).toBeLessThan(10_000);
      // B's CRL, rebuilt from the shared database, lists it too.
      expect((await b.app.ctx.ca!.crl()).crl.findRevoked(certificate.serial)?.reason).toBe(x509.X509CrlReason.keyCompromise);
      // A learns of it the same way, through the event (revocations usually come from the CLI, another process); its
      // consumer may be a moment behind B's.
      await waitUntil(
        async () => (await a.app.ctx.trust!.validate(certificate.pem).then(() => 'valid', (e: { code?: string }) => e.code)) === 'ZT_ERR_CERT_REVOKED',
        10_000,
        'instance A to refuse the certificate it revoked',
        100,
      );
    });
  });
});
