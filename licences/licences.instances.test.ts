// The registry on two gateway instances over one PostgreSQL and one Kafka, as deployed: each instance serves lookups
// from its own cache, and a change made through one (revoke, suspend, a new version, a new licence for a holder
// whose list was cached) reaches the other's cache through the event bus, so no instance keeps serving stale status.
import { sharedDeployment } from '../test/support/instances.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_SUBJECTS } from '../exchange/datasets/index.js';
import type { TestApp } from '../test/support/app.js';
import { waitUntil } from '../test/support/ca.js';
import { describeWithService } from '../test/support/services.js';
import { demoSigner, signedHeaders } from '../test/support/signing.js';
import { signLicenceStep } from './licence-steps.js';
import { STATUS_LIST_VALUE } from './licence.js';
import { verifyStatusListCredential } from './status-list/credential.js';

const MARKET = '11210100001000029N';
const BUSINESS_LICENCE = '11100000MB0002581X001';

interface Verification {
  result: { status: string; registryStatus: string; licence: { version: number; supersededBy?: string } };
}

async function verify(app: TestApp, identifier: string): Promise<Verification['result']> {
  const response = await fetch(`${app.httpUrl}/v1/licences/${identifier}/verification`);
  expect(response.status).toBe(200);
  return ((await response.json()) as Verification).result;
}

/** The licence numbers a holder has, as 市场监管局 reads them for a case (a licence read is signed). */
async function holderNumbers(app: TestApp, code: string, keysFrom: TestApp): Promise<string[]> {
  const path = `/v1/licences?holderCode=${code}&holderCodeType=001&serviceItem=QYKB-210100-0001&caseNumber=SC-2026-000555`;
  const response = await fetch(`${app.httpUrl}${path}`, { headers: await signedHeaders(demoSigner(keysFrom.config.dataDir, MARKET), 'GET', path) });
  const body = (await response.json()) as { licences: { document: { licenceNumber: string } }[] };
  return body.licences.map((l) => l.document.licenceNumber).sort();
}

describeWithService('kafka', 'the licence registry on two instances', () => {
  describeWithService('postgres', 'sharing PostgreSQL, Kafka and the platform CA', () => {
    const deployment = sharedDeployment('licences');
    const caDir = deployment.caDir;
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      a = await deployment.start('licences-a', { licenceAnonymousRate: 0 });
      b = await deployment.start('licences-b', { licenceAnonymousRate: 0 });
    });

    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await deployment.remove();
    });

    it('drops a cached licence in the other instance when one revokes, suspends or supersedes it', async () => {
      expect(a.app.ctx.bus.kind).toBe('kafka');
      const [food] = await a.app.ctx.licences.byHolder(DEMO_SUBJECTS.restaurant.uscc, '001', '11100000MB0002581X002');
      const id = food!.identifier;
      // Both instances have it cached as valid.
      expect((await verify(a, id)).status).toBe('valid');
      expect((await verify(b, id)).status).toBe('valid');
      const hitsBefore = a.app.ctx.licences.cacheStats.hits;
      expect((await verify(a, id)).status).toBe('valid');
      expect(a.app.ctx.licences.cacheStats.hits).toBeGreaterThan(hitsBefore);

      const signer = demoSigner(a.config.dataDir, MARKET);
      const suspend = { actor: MARKET, reason: '食品安全抽检不合格，责令停业整改' };
      await b.app.ctx.licences.setStatus('suspend', id, suspend, await signLicenceStep(signer, { kind: 'suspend', identifier: id, actor: MARKET, content: suspend }));
      await waitUntil(async () => (await verify(a, id)).status === 'suspended', 20_000, 'instance a to see the suspension made on b');

      const resume = { actor: MARKET };
      await a.app.ctx.licences.setStatus('resume', id, resume, await signLicenceStep(signer, { kind: 'resume', identifier: id, actor: MARKET, content: resume }));
      await waitUntil(async () => (await verify(b, id)).status === 'valid', 20_000, 'instance b to see the resumption made on a');

      const renew = { actor: MARKET, reason: '许可证延续', validTo: '2034-05-09' };
      const renewed = await b.app.ctx.licences.newVersion('renew', id, renew, await signLicenceStep(signer, { kind: 'renew', identifier: id, actor: MARKET, content: renew }));
      await waitUntil(async () => (await verify(a, id)).status === 'superseded', 20_000, 'instance a to see version 1 superseded');
      expect((await verify(a, id)).licence.supersededBy).toBe(renewed.identifier);
      expect((await verify(a, renewed.identifier)).licence.version).toBe(2);
    });

    it('drops a cached holder list in the other instance when one issues a licence to that holder', async () => {
      const holder = DEMO_SUBJECTS.revokedCompany;
      const before = await holderNumbers(a, holder.uscc, a); // now cached on a
      const licence = {
        typeCode: BUSINESS_LICENCE,
        issuer: MARKET,
        licenceNumber: `${holder.uscc}-R`,
        holder: { name: holder.name, code: holder.uscc },
        fields: { enterpriseType: '有限责任公司', legalRepresentative: DEMO_SUBJECTS.divorced.name, registeredCapital: '50.00', establishedOn: '2011-06-08', address: '辽宁省沈阳市铁西区兴华南街58号', businessScope: '日用百货销售' },
      };
      const signer = demoSigner(a.config.dataDir, MARKET);
      await b.app.ctx.licences.issue(licence, await signLicenceStep(signer, { kind: 'issue', actor: MARKET, content: licence }));
      await waitUntil(async () => (await holderNumbers(a, holder.uscc, a)).length === before.length + 1, 20_000, 'instance a to list the licence issued on b');
      expect(await holderNumbers(a, holder.uscc, a)).toContain(`${holder.uscc}-R`);
    });

    it('serves a signed status list whose entry for a revoked licence reads revoked, from both instances', async () => {
      const revoked = (await a.app.ctx.licences.byHolder(DEMO_SUBJECTS.revokedCompany.uscc, '001', BUSINESS_LICENCE)).find((l) => l.status === 'revoked')!;
      expect(revoked).toBeDefined();
      const url = `/v1/licence-status-lists/${revoked.issuerCode}/${revoked.listNo}`;
      const trust = { trustAnchors: [readFileSync(join(caDir, 'root-ca.cert.pem'))], intermediates: [readFileSync(join(caDir, 'issuing-ca.cert.pem'))] };
      for (const app of [a, b]) {
        const response = await fetch(app.httpUrl + url);
        expect(response.headers.get('cache-control')).toContain('max-age');
        const list = await verifyStatusListCredential(await response.json(), { caCertificates: trust });
        expect(list.bitstring.get(revoked.statusIndex)).toBe(STATUS_LIST_VALUE.revoked);
      }
    });
  });
});
