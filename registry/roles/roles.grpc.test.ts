// zhengtong.v1.RoleService: the roles over gRPC as over HTTP. The administrator grants and withdraws with signed
// calls, any department lists, a department without the role is refused, and the change's signed call is kept.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Signer } from '../../certs/signer/index.js';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { serialised, serviceClient, unary, unaryError, type Client, type Msg } from '../../test/support/grpc-client.js';
import { demoSigner, platformOperatorKey, signedMetadata } from '../../test/support/signing.js';

const MARKET = '11210100001000029N';
const PORTAL_CANDIDATE = '11210100001000045C'; // 民政局
const PLATFORM = '11210100001000088R';
let app: TestApp;
let client: Client;

beforeAll(async () => {
  app = await startTestApp();
  client = serviceClient('roles.proto', 'RoleService', app.grpcAddress);
}, 120_000);
afterAll(async () => {
  client?.close();
  await app?.close();
});

async function as(signer: Signer, method: string, request: Msg): Promise<grpc.Metadata> {
  const { path, bytes } = serialised(client, method, request);
  return signedMetadata(signer, path, bytes);
}

it('grants, lists and withdraws a role over gRPC, only for the administrator', async () => {
  const admin = platformOperatorKey(app.config);
  const market = demoSigner(app.config.dataDir, MARKET);
  const grant = { role: 'portal', department: PORTAL_CANDIDATE, reason: '政务服务门户' };

  expect((await unaryError(client, 'GrantRole', grant)).code).toBe(grpc.status.UNAUTHENTICATED);
  const forbidden = await unaryError(client, 'GrantRole', grant, await as(market, 'GrantRole', grant));
  expect(forbidden.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(forbidden.metadata.get('zt-error-code')[0]).toBe('ZT_ERR_ACCESS_FORBIDDEN');

  const holder = await unary(client, 'GrantRole', grant, await as(admin, 'GrantRole', grant));
  expect(holder).toMatchObject({ role: 'portal', department: PORTAL_CANDIDATE, grantedBy: PLATFORM, source: 'signed', reason: '政务服务门户' });
  const listed = await unary(client, 'ListRoles', { role: 'portal' }, await as(market, 'ListRoles', { role: 'portal' }));
  expect((listed.holders as Msg[]).map((h) => h.department)).toContain(PORTAL_CANDIDATE);

  const withdraw = { role: 'portal', department: PORTAL_CANDIDATE };
  expect(await unary(client, 'WithdrawRole', withdraw, await as(admin, 'WithdrawRole', withdraw))).toEqual({ withdrawn: true });
  const again = await unaryError(client, 'WithdrawRole', withdraw, await as(admin, 'WithdrawRole', withdraw));
  expect(again.metadata.get('zt-error-code')[0]).toBe('ZT_ERR_ROLE_NOT_HELD');

  const history = await unary(client, 'RoleHistory', { department: PORTAL_CANDIDATE }, await as(market, 'RoleHistory', { department: PORTAL_CANDIDATE }));
  const changes = JSON.parse(Buffer.from(history.json as Uint8Array).toString('utf8')) as { action: string; statement: { envelope: { path: string } } | null }[];
  expect(changes.map((c) => c.action)).toEqual(['grant', 'withdraw']);
  expect(changes.map((c) => c.statement?.envelope.path)).toEqual(['/zhengtong.v1.RoleService/GrantRole', '/zhengtong.v1.RoleService/WithdrawRole']);
});
