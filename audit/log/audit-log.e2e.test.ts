// The tamper-evident log through the running app: the sequencer and checkpointer loop started by listen(), the public
// checkpoint and consistency endpoints and the signed inclusion proof over HTTP and gRPC (with refusals and their
// codes), then the CLI on the same database once the app is closed: verify clean, an edited record named, exit 1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../core/config/index.js';
import { errorCatalogue, type ErrorCode } from '../../core/errors/index.js';
import { createLogger } from '../../core/logging/index.js';
import { openDatabase } from '../../core/storage/index.js';
import { packageRoot } from '../../core/paths.js';
import { verifyConsistency, verifyInclusion, leafHash } from '../../certs/signer/merkle.js';
import { buildApp, type App } from '../../gateway/app.js';
import { demoKeyFiles } from '../../demo/index.js';
import { DepartmentKey, signGrpcRequest, signHttpRequest } from '../../client/index.js';
import { runAuditLogCommand } from '../../cli/audit-log.js';
import { waitUntil } from '../../test/support/ca.js';
import { insertRecords } from './test-support.js';
import type { Checkpoint } from './checkpoint.js';

const SUPERVISOR = '11210100001000096L';
const PORTAL = '11210100001000109A';
const MARKET = '11210100001000029N'; // neither supervisor nor portal
const SERVICE = 'zhengtong.v1.AuditLogService';
type KeySigner = ReturnType<typeof DepartmentKey.fromFiles>;

describe('tamper-evident log end to end', () => {
  let app: App;
  let config: Config;
  let httpUrl: string;
  let grpcAddress: string;
  let dataDir: string;
  let root: protobuf.Root;
  let channel: grpc.Client;
  const keys: KeySigner[] = [];
  const key = (uscc: string): KeySigner => {
    const files = demoKeyFiles(config.dataDir, uscc);
    const k = DepartmentKey.fromFiles(files.key, files.certificate);
    keys.push(k);
    return k;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'zt-audit-log-'));
    config = loadConfig({
      env: {},
      overrides: { httpPort: 0, grpcPort: 0, dataDir, logLevel: 'silent', shutdownTimeoutMs: 5000, auditSequenceMs: 50, auditCheckpointSeconds: 1, auditGapSeconds: 0 },
    });
    app = await buildApp(config, { logger: createLogger({ level: 'silent', instanceId: 'test' }), seedDemo: true });
    ({ httpUrl, grpcAddress } = await app.listen());
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(packageRoot(), 'proto', target);
    root.loadSync('zhengtong/v1/audit_log.proto', { keepCase: false });
    channel = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
    await insertRecords(app.ctx.db, 500);
  }, 120_000);

  afterAll(async () => {
    channel?.close();
    for (const k of keys) await k.close();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${httpUrl}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  const call = (method: string, request: Record<string, unknown>, metadata = new grpc.Metadata()) => {
    const service = root.lookupService(SERVICE);
    const m = service.methods[method]!;
    const requestType = root.lookupType(m.requestType);
    const responseType = root.lookupType(m.responseType);
    const bytes = Buffer.from(requestType.encode(requestType.fromObject(request)).finish());
    return {
      bytes,
      send: (md = metadata) =>
        new Promise<Record<string, any>>((resolve, reject) => { // eslint-disable-line @typescript-eslint/no-explicit-any
          channel.makeUnaryRequest(`/${SERVICE}/${method}`, (b: Buffer) => b, (b: Buffer) => responseType.toObject(responseType.decode(b), { longs: String, bytes: String, defaults: true }), bytes, md, (error, response) =>
            error ? reject(error) : resolve(response as Record<string, any>), // eslint-disable-line @typescript-eslint/no-explicit-any
          );
        }),
    };
  };

  const grpcCode = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (error) {
      return String((error as grpc.ServiceError).metadata.get('zt-error-code')[0]);
    }
    return 'answered';
  };

  it('sequences and signs checkpoints in the background, and serves them publicly', async () => {
    await waitUntil(async () => (await app.ctx.auditLog.latest())?.treeSize === 500, 20_000, 'a checkpoint of all 500 records');
    const latest = await get('/v1/audit/log/checkpoints/latest');
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ treeSize: 500, platform: config.platformUscc });
    expect(latest.body.envelope.signer.certificate).toBeTypeOf('string');
    await insertRecords(app.ctx.db, 30, { tag: 'more' });
    await waitUntil(async () => (await app.ctx.auditLog.latest())?.treeSize === 530, 20_000, 'a checkpoint of 530');
    const list = await get('/v1/audit/log/checkpoints?limit=1');
    expect(list.body.checkpoints.map((c: Checkpoint) => c.treeSize)).toEqual([530]);
    expect(list.body.next).toBe('530');
    const older = await get(`/v1/audit/log/checkpoints?limit=5&before=${list.body.next}`);
    expect(older.body.checkpoints.map((c: Checkpoint) => c.treeSize)).toEqual([500]);
    expect((await get('/v1/audit/log/checkpoints/500')).body.rootHash).toBe(latest.body.rootHash);

    const consistency = await get('/v1/audit/log/consistency?first=500&second=530');
    expect(consistency.status).toBe(200);
    const proof = (consistency.body.proof as string[]).map((h) => Buffer.from(h, 'hex'));
    expect(verifyConsistency(500, 530, proof, Buffer.from(latest.body.rootHash, 'hex'), Buffer.from(list.body.checkpoints[0].rootHash, 'hex'))).toBe(true);

    const viaGrpc = await call('GetConsistencyProof', { first: 500, second: 530 }).send();
    expect(viaGrpc.proof.map((b: string) => Buffer.from(b, 'base64').toString('hex'))).toEqual(consistency.body.proof);
    const cp = await call('GetLatestCheckpoint', {}).send();
    expect(cp).toMatchObject({ treeSize: '530', platform: config.platformUscc });
    expect(JSON.parse(cp.envelopeJson).payloadSm3).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('ListCheckpoints', { limit: 10 }).send()).checkpoints).toHaveLength(2);
  }, 60_000);

  it('refuses bad sizes and parameters with specific codes, over HTTP and gRPC', async () => {
    const code = async (path: string, expected: ErrorCode) => {
      const r = await get(path);
      expect(r.body.code, path).toBe(expected);
      expect(r.status, path).toBe(errorCatalogue[expected].http);
    };
    await code('/v1/audit/log/consistency?first=0&second=5', 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code('/v1/audit/log/consistency?first=10&second=5', 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code('/v1/audit/log/consistency?first=1&second=999999', 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code("/v1/audit/log/consistency?first=1'%20OR%201=1&second=5", 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code('/v1/audit/log/consistency?first=1', 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code('/v1/audit/log/consistency?first=1&second=2&x=1', 'ZT_ERR_AUDIT_QUERY_INVALID');
    await code('/v1/audit/log/checkpoints/77', 'ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND');
    await code('/v1/audit/log/checkpoints/-1', 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code('/v1/audit/log/checkpoints?limit=100000', 'ZT_ERR_AUDIT_QUERY_INVALID');
    await code('/v1/audit/log/checkpoints?before=abc', 'ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    await code(`/v1/audit/log/records/0190d7a4-0000-7000-8000-000000000000/proof?requester=${SUPERVISOR}`, 'ZT_ERR_REQUEST_UNSIGNED');
    expect(await grpcCode(call('GetConsistencyProof', { first: 9, second: 3 }).send())).toBe('ZT_ERR_AUDIT_TREE_SIZE_INVALID');
    expect(await grpcCode(call('GetCheckpoint', { treeSize: 77 }).send())).toBe('ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND');
    expect(await grpcCode(call('ListCheckpoints', { limit: 5000 }).send())).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
  });

  it('gives a signed caller an inclusion proof that leads to the signed root; refuses others and bad ids', async () => {
    const { rows } = await app.ctx.db.query<{ id: string }>('SELECT id FROM access_record WHERE seq = 321');
    const id = rows[0]!.id;
    const signedGet = async (path: string, signer: KeySigner) => get(path, (await signHttpRequest({ method: 'GET', path, body: Buffer.alloc(0), signer })).headers);

    const supervisor = key(SUPERVISOR);
    const asSupervisor = await signedGet(`/v1/audit/log/records/${id}/proof?requester=${SUPERVISOR}&treeSize=500`, supervisor);
    expect(asSupervisor.status).toBe(200);
    const answer = asSupervisor.body;
    expect(answer).toMatchObject({ recordId: id, seq: 321, leafIndex: 320, treeSize: 500 });
    expect(leafHash(Buffer.from(answer.leaf, 'utf8')).toString('hex')).toBe(answer.leafHash);
    expect(verifyInclusion(Buffer.from(answer.leafHash, 'hex'), 320, 500, answer.proof.map((p: string) => Buffer.from(p, 'hex')), Buffer.from(answer.checkpoint.rootHash, 'hex'))).toBe(true);

    const portal = key(PORTAL);
    const asPortal = await signedGet(`/v1/audit/log/records/${id}/proof?requester=${PORTAL}`, portal);
    expect(asPortal.status).toBe(200);
    expect(asPortal.body.leaf).toBeUndefined();
    expect(asPortal.body.treeSize).toBe(530);

    const market = key(MARKET);
    expect((await signedGet(`/v1/audit/log/records/${id}/proof?requester=${MARKET}`, market)).body.code).toBe('ZT_ERR_AUDIT_FORBIDDEN');
    expect((await signedGet(`/v1/audit/log/records/0190d7a4-0000-7000-8000-000000000000/proof?requester=${SUPERVISOR}`, supervisor)).body.code).toBe('ZT_ERR_AUDIT_RECORD_NOT_FOUND');
    const malformed = await signedGet(`/v1/audit/log/records/not-a-uuid'--/proof?requester=${SUPERVISOR}`, supervisor);
    expect([malformed.status, malformed.body.code]).toEqual([400, 'ZT_ERR_AUDIT_QUERY_INVALID']);
    expect((await signedGet(`/v1/audit/log/records/${id}/proof?requester=${SUPERVISOR}&treeSize=501`, supervisor)).body.code).toBe('ZT_ERR_AUDIT_CHECKPOINT_NOT_FOUND');
    expect((await signedGet(`/v1/audit/log/records/${id}/proof?requester=${SUPERVISOR}&treeSize=x`, supervisor)).body.code).toBe('ZT_ERR_AUDIT_TREE_SIZE_INVALID');

    // gRPC: signed in metadata over the method and the message bytes.
    const grpcProof = async (request: Record<string, unknown>, signer: KeySigner) => {
      const c = call('GetInclusionProof', request);
      const signed = await signGrpcRequest({ path: `/${SERVICE}/GetInclusionProof`, body: c.bytes, signer });
      return c.send(signed.metadata);
    };
    const viaGrpc = await grpcProof({ requester: SUPERVISOR, recordId: id, treeSize: 500 }, supervisor);
    expect(viaGrpc).toMatchObject({ recordId: id, seq: '321', leafIndex: '320', treeSize: '500' });
    expect(viaGrpc.proof.map((b: string) => Buffer.from(b, 'base64').toString('hex'))).toEqual(answer.proof);
    expect(await grpcCode(grpcProof({ requester: PORTAL, recordId: 'nope', treeSize: 0 }, portal))).toBe('ZT_ERR_AUDIT_QUERY_INVALID');
    expect(await grpcCode(grpcProof({ requester: MARKET, recordId: id }, market))).toBe('ZT_ERR_AUDIT_FORBIDDEN');
    expect(await grpcCode(call('GetInclusionProof', { requester: SUPERVISOR, recordId: id }).send())).toBe('ZT_ERR_REQUEST_UNSIGNED');
  }, 60_000);

  it('the CLI verifies the closed database, then names a record edited in it (exit 1)', async () => {
    await app.close();
    const run = async (command: string, ...args: string[]) => {
      let out = '';
      let err = '';
      const status = await runAuditLogCommand(() => config, command, args, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
      return { status, out, err };
    };
    const clean = await run('verify');
    expect(clean.err).toBe('');
    expect(clean.status).toBe(0);
    expect(clean.out).toContain('OK: the log verifies');
    const cps = await run('checkpoints', '--json');
    expect(JSON.parse(cps.out).map((c: Checkpoint) => c.treeSize)).toEqual([530, 500]);

    const db = await openDatabase(config);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM access_record WHERE seq = 7');
    const proof = await run('proof', '--record', rows[0]!.id);
    expect(proof.status).toBe(0);
    expect(proof.out).toContain('OK: the record is in the signed log');
    await db.exec('ALTER TABLE access_record DISABLE TRIGGER access_record_append_only');
    await db.query(`UPDATE access_record SET latency_ms = 0.5 WHERE seq = 7`);
    await db.exec('ALTER TABLE access_record ENABLE TRIGGER access_record_append_only');
    await db.close();

    const tampered = await run('verify', '--json');
    expect(tampered.status).toBe(1);
    const report = JSON.parse(tampered.out);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'edited', seq: 7, id: rows[0]!.id })]);
    const text = await run('verify', '--from-seq', '1', '--to-seq', '10');
    expect(text.status).toBe(1);
    expect(text.out).toContain(`EDITED: record seq 7 (id ${rows[0]!.id})`);
    expect((await run('proof', '--record', rows[0]!.id)).status).toBe(1);
    expect((await run('verify', '--from-seq', 'x')).status).toBe(2);
    expect((await run('checkpoint')).out).toContain('no new checkpoint');
  }, 120_000);
});
