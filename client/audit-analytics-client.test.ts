// The analytics API end to end on the embedded defaults: records written through the gateway's access log reach the
// inline consumer through the outbox and the in-process bus; the report and the anomaly flags are then read over
// HTTP and over gRPC with signed requests, the same over both; non-supervisors, unsigned calls and bad ranges are
// refused with their catalogue codes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from '../certs/signer/index.js';
import { DemoSigners } from '../demo/index.js';
import { startTestApp, type TestApp } from '../test/support/app.js';
import { waitUntil } from '../test/support/ca.js';
import { person } from '../audit/analytics/test-support.js';
import { AuditAnalyticsClient, ExchangeError } from './index.js';

const SUPERVISOR = '11210100001000096L'; // 政数局, a supervisor by default
const MARKET = '11210100001000029N'; // a department, not a supervisor
const PROTOCOLS = ['http', 'grpc'] as const;

let app: TestApp;
let supervisor: AuditAnalyticsClient;
let department: AuditAnalyticsClient;
let signers: DemoSigners;

async function client(signer: Signer): Promise<AuditAnalyticsClient> {
  return new AuditAnalyticsClient({ httpUrl: app.httpUrl, grpcAddress: app.grpcAddress, signer });
}

async function refusal(promise: Promise<unknown>): Promise<ExchangeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExchangeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  app = await startTestApp();
  signers = new DemoSigners(app.app.ctx.ca!, app.config.dataDir);
  supervisor = await client(await signers.signerFor(SUPERVISOR));
  department = await client(await signers.signerFor(MARKET));
  const log = app.app.ctx.accessLog;
  const writes = [];
  for (let i = 0; i < 20; i++) {
    writes.push(
      log.write({
        decision: 'permit',
        protocol: 'http',
        latencyMs: 1 + i,
        requester: MARKET,
        operator: '张三',
        subjectKind: 'person',
        subjectCode: person(i),
        resource: '210100-GA-0001',
        itemsRequested: ['name', 'address'],
        itemsReturned: i % 2 ? ['name'] : ['name', 'address'],
        serviceItem: '210100-SB-0001',
        caseNumber: `SC-2026-${String(i).padStart(6, '0')}`,
        policyRevision: 'r1',
        requestDigest: randomBytes(32),
        responseDigest: randomBytes(32),
        certificateSm3: randomBytes(32),
      }),
    );
  }
  for (let i = 0; i < 3; i++) writes.push(log.write({ decision: 'deny', errorCode: 'ZT_ERR_REQUEST_INVALID', protocol: 'grpc', latencyMs: 0.5, requester: MARKET, operator: '李四', itemsRequested: ['name'] }));
  await Promise.all(writes);
  app.app.ctx.relay.nudge();
  // The outbox relay publishes, the in-process bus delivers to the inline consumer.
  await waitUntil(async () => (await supervisor.report()).totals.requests === 23, 15_000, 'the records to reach the analytics');
}, 120_000);

afterAll(async () => {
  await supervisor?.close();
  await department?.close();
  await app?.close();
});

describe('analytics over HTTP and gRPC', () => {
  it('reports per department and per resource, the same over both protocols', async () => {
    // An explicit range: the default ends now, and "now" (for open replies) differs between two calls.
    const range = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 3_600_000) };
    const [http, grpc] = await Promise.all(PROTOCOLS.map((protocol) => supervisor.report({ by: 'department', ...range }, { protocol })));
    // demandReplies.asOf is "now" when the range ends later, different for each call.
    expect({ ...grpc, demandReplies: { ...grpc!.demandReplies, asOf: '' } }).toEqual({ ...http, demandReplies: { ...http!.demandReplies, asOf: '' } });
    const row = http!.rows.find((r) => r.key === MARKET)!;
    expect(row).toMatchObject({ requests: 23, permitted: 20, denied: 3, errors: 0, refusalRate: 0.1304, withoutCaseNumber: 3 });
    expect(row.fulfilment).toEqual({ permittedShare: 0.8696, itemsRequested: 40, itemsReturned: 30, itemsReturnedShare: 0.75 });
    expect(row.latencyMs!.p50).toBeGreaterThan(7);
    expect(row.latencyMs!.p50).toBeLessThan(15);
    expect(row.name).toBeTruthy();
    const byResource = await supervisor.report({ by: 'resource' }, { protocol: 'grpc' });
    expect(byResource.rows.find((r) => r.key === '210100-GA-0001')).toMatchObject({ permitted: 20, supplier: expect.any(String) });
  });

  it('flags the requests without a case number, the same over both protocols', async () => {
    const [http, grpc] = await Promise.all(PROTOCOLS.map((protocol) => supervisor.anomalies({}, { protocol })));
    expect(grpc).toEqual(http);
    const missing = http!.flags.filter((f) => f.kind === 'missing-case-number');
    expect(missing).toMatchObject([{ department: MARKET, operator: '李四', evidence: { requests: 3 } }]);
    expect(missing[0]!.samples.recordIds).toHaveLength(3);
  });

  for (const protocol of PROTOCOLS) {
    it(`refuses a department that is not a supervisor (${protocol})`, async () => {
      const error = await refusal(department.report({}, { protocol }));
      expect(error.code).toBe('ZT_ERR_AUDIT_FORBIDDEN');
      expect((await refusal(department.anomalies({}, { protocol }))).code).toBe('ZT_ERR_AUDIT_FORBIDDEN');
    });

    it(`refuses bad and huge ranges (${protocol})`, async () => {
      for (const input of [
        { from: '2026-03-02', to: '2026-03-01' },
        { from: '2020-01-01', to: '2026-01-01' },
        { from: 'yesterday' },
        { from: "2026-03-01' OR 1=1 --" },
      ]) {
        const error = await refusal(supervisor.report(input, { protocol }));
        expect(error.code).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
        if (protocol === 'http') expect(error.httpStatus).toBe(400);
      }
      expect((await refusal(supervisor.report({ by: 'operator' as 'department' }, { protocol }))).code).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
    });
  }

  it('refuses an unsigned request before reading its parameters', async () => {
    const unsigned = await fetch(`${app.httpUrl}/v1/audit/anomalies?requester=${SUPERVISOR}`);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_UNSIGNED');
    // Without a signature nothing is said about the parameters either.
    const noRequester = await fetch(`${app.httpUrl}/v1/audit/analytics`);
    expect(noRequester.status).toBe(401);
    expect(((await noRequester.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_UNSIGNED');
  });
});

describe('zhengtong audit analyse | anomalies', () => {
  async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
    const { runAuditAnalyticsCommand } = await import('../cli/audit-analytics.js');
    const { demoKeyFiles } = await import('../demo/index.js');
    const files = demoKeyFiles(app.config.dataDir, SUPERVISOR);
    let out = '';
    let err = '';
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
    try {
      const status = await runAuditAnalyticsCommand(() => app.config, argv[0]!, [...argv.slice(1), '--key', files.key, '--cert', files.certificate]);
      return { status, out, err };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  }

  it('prints the report and the flags as tables, over HTTP and gRPC', async () => {
    const analyse = await run(['analyse', '--server', app.httpUrl, '--by', 'department']);
    expect(analyse.err).toBe('');
    expect(analyse.status).toBe(0);
    expect(analyse.out).toMatch(new RegExp(`${MARKET} .* +23 +20 +3 +0 +13\\.0%`));
    expect(analyse.out).toContain('Demand replies');
    const anomalies = await run(['anomalies', '--grpc', app.grpcAddress]);
    expect(anomalies.status).toBe(0);
    expect(anomalies.out).toContain('[missing-case-number]');
    const json = await run(['anomalies', '--server', app.httpUrl, '--json']);
    expect(JSON.parse(json.out).flags.length).toBeGreaterThan(0);
    const bad = await run(['analyse', '--server', app.httpUrl, '--from', '2020-01-01']);
    expect(bad.status).toBe(1);
    expect(bad.err).toContain('[ZT_ERR_AUDIT_QUERY_INVALID]');
  });
});
