// Two gateway instances over one PostgreSQL and one Kafka, as deployed: a nonce used on one is refused on the other,
// access records reach the Kafka topic, and a grant withdrawn through one instance stops serving on the other.
import { sharedDeployment } from '../test/support/instances.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACCESS_RECORD_TOPIC } from '../audit/index.js';
import { DepartmentKey, encodeQueryJson, ExchangeClient, ExchangeError, signHttpRequest, type QueryInput } from '../client/index.js';
import type { DeliveredEvent } from '../core/events/index.js';
import { demoKeyFiles } from '../demo/index.js';
import type { TestApp } from '../test/support/app.js';
import { waitUntil } from '../test/support/ca.js';
import { describeWithService, uniqueName } from '../test/support/services.js';
import { demoSigner, signedJson } from '../test/support/signing.js';
import { DEMO_SUBJECTS } from './datasets/index.js';

const YS = '112101000010000537';
const PLATFORM = '11210100001000088R';

const query = (caseNumber: string): QueryInput => ({
  requester: YS,
  resource: '210100-GA-0001',
  items: ['name', 'address'],
  subject: { kind: 'person', code: DEMO_SUBJECTS.spouse.idNumber },
  purpose: { serviceItem: 'QYKB-210100-0009', caseNumber },
});

describeWithService('kafka', 'the exchange on two instances', () => {
  describeWithService('postgres', 'sharing PostgreSQL, Kafka and the platform CA', () => {
    const deployment = sharedDeployment('exchange');
    const caDir = deployment.caDir;
    let a: TestApp;
    let b: TestApp;
    const clients: ExchangeClient[] = [];
    const client = (app: TestApp): ExchangeClient => {
      const files = demoKeyFiles(a.config.dataDir, YS);
      const c = new ExchangeClient({
        httpUrl: app.httpUrl,
        grpcAddress: app.grpcAddress,
        signer: DepartmentKey.fromFiles(files.key, files.certificate),
        trust: { root: readFileSync(join(caDir, 'root-ca.cert.pem')), issuing: readFileSync(join(caDir, 'issuing-ca.cert.pem')) },
        platformUscc: PLATFORM,
      });
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      // The first instance seeds the demo (and makes the demo CA in the shared directory); the second finds both.
      a = await deployment.start('exchange-a');
      b = await deployment.start('exchange-b');
    });

    afterAll(async () => {
      for (const c of clients) await c.close();
      await Promise.all([a?.close(), b?.close()]);
      await deployment.remove();
    });

    it('answers on both, and refuses on one a nonce already used on the other', async () => {
      expect(a.app.ctx.bus.kind).toBe('kafka');
      expect((await client(a).query(query('MULTI-1'), { protocol: 'http' })).result.items.name).toBe(DEMO_SUBJECTS.spouse.name);
      expect((await client(b).query(query('MULTI-2'), { protocol: 'grpc' })).result.items.name).toBe(DEMO_SUBJECTS.spouse.name);

      const files = demoKeyFiles(a.config.dataDir, YS);
      const body = encodeQueryJson(query('MULTI-3'), YS);
      const signed = await signHttpRequest({ body, signer: DepartmentKey.fromFiles(files.key, files.certificate) });
      const send = (app: TestApp) =>
        fetch(`${app.httpUrl}/v1/exchange/query`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signed.headers } });
      expect((await send(a)).status).toBe(200);
      const replay = await send(b);
      expect(replay.status).toBe(409);
      expect(((await replay.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_REPLAYED');
      // b found the nonce taken in the statement that writes its record: one permit, one refusal of the replay, and
      // nothing released by the refusal.
      const { rows } = await a.app.ctx.db.query<{ decision: string; error_code: string | null; items_returned: string[]; instance: string }>(
        `SELECT decision, error_code, items_returned, instance FROM access_record WHERE case_number = 'MULTI-3' ORDER BY seq`,
      );
      expect(rows.map((r) => [r.decision, r.error_code, r.items_returned.length > 0])).toEqual([
        ['permit', null, true],
        ['deny', 'ZT_ERR_REQUEST_REPLAYED', false],
      ]);
      expect(new Set(rows.map((r) => r.instance)).size).toBe(2);
    });

    it('publishes every access record to Kafka', async () => {
      const { result } = await client(b).query(query('MULTI-KAFKA'), { protocol: 'http' });
      const seen: DeliveredEvent[] = [];
      const subscription = await a.app.ctx.bus.subscribe({
        topics: [ACCESS_RECORD_TOPIC],
        group: uniqueName('exchange-test'),
        fromBeginning: true,
        handler: async (event) => void seen.push(event),
      });
      try {
        await waitUntil(() => seen.some((e) => e.value.toString('utf8').includes(result.accessId)), 30_000, 'the access record on Kafka');
        const event = JSON.parse(seen.find((e) => e.value.toString('utf8').includes(result.accessId))!.value.toString('utf8')) as { record: { caseNumber: string; decision: string } };
        expect(event.record).toMatchObject({ caseNumber: 'MULTI-KAFKA', decision: 'permit' });
      } finally {
        await subscription.close();
      }
    });

    it('stops serving a grant withdrawn through one instance there at once, and on the other soon after', async () => {
      const grant = a.app.ctx.grants.find(YS, '210100-GA-0001', 'QYKB-210100-0009', ['name'], new Date().toISOString().slice(0, 10));
      expect(grant.grant).not.toBeNull();
      const id = grant.grant!.demandId;
      const input = { actor: YS, reason: '测试撤回' };
      const signature = await signedJson(demoSigner(a.config.dataDir, YS), { kind: 'withdraw', demandId: id, actor: YS, content: input });
      const withdrawn = await fetch(`${a.httpUrl}/v1/catalogue/demands/${id}/withdraw`, {
        method: 'POST',
        body: JSON.stringify({ ...input, signature }),
        headers: { 'content-type': 'application/json' },
      });
      expect(withdrawn.status).toBe(200);
      // The instance that withdrew it refuses at once: it answered only after rebuilding its own grant index.
      await expect(client(a).query(query(`MULTI-W-A-${Date.now()}`), { protocol: 'http' })).rejects.toMatchObject({ code: 'ZT_ERR_NO_GRANT' });
      await waitUntil(
        async () => {
          try {
            await client(b).query(query(`MULTI-W-${Date.now()}`), { protocol: 'grpc' });
            return false;
          } catch (error) {
            if (error instanceof ExchangeError && error.code === 'ZT_ERR_NO_GRANT') return true;
            throw error;
          }
        },
        30_000,
        'the other instance to drop the withdrawn grant',
        250,
      );
    });
  });
});
