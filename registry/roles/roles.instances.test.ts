// Roles on two gateway instances over one PostgreSQL and one Kafka, as deployed: a role granted through one instance
// admits the department on the other within a second, and a withdrawal shuts it out as fast.
import { sharedDeployment } from '../../test/support/instances.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../test/support/app.js';
import { describeWithService } from '../../test/support/services.js';
import { demoSigner, platformOperatorKey, signedHeaders } from '../../test/support/signing.js';

const MARKET = '11210100001000029N'; // 市场监管局: no role of its own

describeWithService('kafka', 'roles on two instances', () => {
  describeWithService('postgres', 'sharing PostgreSQL, Kafka and the platform CA', () => {
    const deployment = sharedDeployment('roles');
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      a = await deployment.start('roles-a');
      b = await deployment.start('roles-b');
    });

    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await deployment.remove();
    });

    /** 市场监管局's signed search of the access log on `app`: 200 as a supervisor, 403 otherwise. */
    async function searchStatus(app: TestApp): Promise<number> {
      const path = `/v1/audit/access-records?requester=${MARKET}&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`;
      const response = await fetch(app.httpUrl + path, { headers: await signedHeaders(demoSigner(a.config.dataDir, MARKET), 'GET', path) });
      await response.arrayBuffer();
      return response.status;
    }

    async function change(kind: 'grants' | 'withdrawals'): Promise<void> {
      const body = JSON.stringify({ role: 'supervisor', department: MARKET, reason: '两实例测试' });
      const response = await fetch(`${a.httpUrl}/v1/roles/${kind}`, { method: 'POST', body, headers: await signedHeaders(platformOperatorKey(a.config), 'POST', `/v1/roles/${kind}`, body) });
      expect(response.status, await response.text()).toBe(kind === 'grants' ? 201 : 200);
    }

    /** Milliseconds until `app` answers `status`, polling every 25 ms for at most 5 s. */
    async function msUntil(app: TestApp, status: number, since: number): Promise<number> {
      while (Date.now() - since < 5000) {
        if ((await searchStatus(app)) === status) return Date.now() - since;
        await new Promise((r) => setTimeout(r, 25));
      }
      return Number.POSITIVE_INFINITY;
    }

    it('applies a grant and a withdrawal made on one instance on the other within a second', async () => {
      expect(b.app.ctx.bus.kind).toBe('kafka');
      expect(await searchStatus(b)).toBe(403);
      let since = Date.now();
      await change('grants');
      expect(await searchStatus(a)).toBe(200);
      expect(await msUntil(b, 200, since)).toBeLessThan(1000);
      since = Date.now();
      await change('withdrawals');
      expect(await searchStatus(a)).toBe(403);
      expect(await msUntil(b, 403, since)).toBeLessThan(1000);
    });
  });
});
