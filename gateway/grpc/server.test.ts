// End-to-end tests of the gRPC gateway over a real connection. The client is built independently of the server
// code (proto-loader + loadPackageDefinition on proto/, the health proto of grpc-health-check and the reflection
// proto shipped inside @grpc/reflection), so a mistake in the server's protobufjs path cannot hide itself.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../core/paths.js';
import { usccCheckCharacter } from '../../core/identifiers/index.js';
import { DEMO_DEPARTMENTS } from '../../demo/departments.js';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { demoSigner, platformOperatorKey, signedMetadata } from '../../test/support/signing.js';

const require = createRequire(import.meta.url);
const PROTO_DIR = join(packageRoot(), 'proto');
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1alpha', 'reflection.proto');
const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type UnaryFn = (request: Msg, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: Msg) => void) => grpc.ClientUnaryCall;
type Client = grpc.Client & Record<string, UnaryFn>;
type ClientCtor = new (address: string, credentials: grpc.ChannelCredentials) => Client;

function loadClients(): { department: ClientCtor; platform: ClientCtor; health: ClientCtor; reflection: ClientCtor } {
  const zt = grpc.loadPackageDefinition(
    protoLoader.loadSync(['zhengtong/v1/departments.proto', 'zhengtong/v1/platform.proto'], { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] }),
  ) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const health = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, LOADER_OPTIONS)) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const reflection = grpc.loadPackageDefinition(protoLoader.loadSync(REFLECTION_PROTO, LOADER_OPTIONS)) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    department: zt.zhengtong.v1.DepartmentService,
    platform: zt.zhengtong.v1.PlatformService,
    health: health.grpc.health.v1.Health,
    reflection: reflection.grpc.reflection.v1alpha.ServerReflection,
  };
}

/** A unary call as a promise; rejects with the ServiceError (code, details, metadata = trailers). */
function call(client: Client, method: string, request: Msg, metadata: grpc.Metadata = new grpc.Metadata()): Promise<Msg> {
  return new Promise((resolve, reject) => {
    client[method]!(request, metadata, (error, response) => (error ? reject(error) : resolve(response!)));
  });
}

/** The metadata of a DepartmentService call signed by `signer` over the message as the client will serialise it. */
function signedAs(signer: Parameters<typeof signedMetadata>[0], method: string, request: Msg): Promise<grpc.Metadata> {
  const bytes = (clients.department as unknown as { service: Record<string, { requestSerialize(m: Msg): Buffer }> }).service[method]!.requestSerialize(request);
  return signedMetadata(signer, `/zhengtong.v1.DepartmentService/${method}`, bytes);
}

async function callError(client: Client, method: string, request: Msg, metadata?: grpc.Metadata): Promise<grpc.ServiceError> {
  const outcome = await call(client, method, request, metadata).then(
    (response) => ({ ok: true as const, response }),
    (error: grpc.ServiceError) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`${method} succeeded but an error was expected: ${JSON.stringify(outcome.response)}`);
  return outcome.error;
}

function trailer(error: grpc.ServiceError, key: string): string | Buffer | undefined {
  return error.metadata?.get(key)[0];
}

function errorBody(error: grpc.ServiceError): { code: string; message: string; requestId: string } {
  const raw = trailer(error, 'zt-error-bin');
  expect(Buffer.isBuffer(raw)).toBe(true);
  return JSON.parse((raw as Buffer).toString('utf8'));
}

/** A valid unified social credit code from 17 characters. */
function uscc(first17: string): string {
  const check = usccCheckCharacter(first17);
  if (check === undefined || first17.length !== 17) throw new Error(`bad test code prefix ${first17}`);
  return first17 + check;
}

/** A registration that is valid but encodes to more than 2048 bytes (the small limit below). */
function bigRegistration(code: string): Msg {
  return { uscc: code, name: '沈'.repeat(200), shortName: 'x'.repeat(1800) };
}

const clients = loadClients();
const insecure = grpc.credentials.createInsecure();
const DEMO_CODES = DEMO_DEPARTMENTS.map((d) => d.uscc);

describe('gRPC gateway (end to end)', () => {
  let app: TestApp;
  let departments: Client;
  let platform: Client;
  let health: Client;
  let reflection: Client;

  beforeAll(async () => {
    app = await startTestApp();
    departments = new clients.department(app.grpcAddress, insecure);
    platform = new clients.platform(app.grpcAddress, insecure);
    health = new clients.health(app.grpcAddress, insecure);
    reflection = new clients.reflection(app.grpcAddress, insecure);
  });

  afterAll(async () => {
    for (const c of [departments, platform, health, reflection]) c?.close();
    await app?.close();
  });

  describe('standard services', () => {
    it.each(['', 'zhengtong.v1.DepartmentService', 'zhengtong.v1.PlatformService'])('health check of %j is SERVING', async (service) => {
      const response = await call(health, 'Check', { service });
      expect(response.status).toBe('SERVING');
    });

    it('health check of an unknown service is NOT_FOUND', async () => {
      const error = await callError(health, 'Check', { service: 'zhengtong.v1.NoSuchService' });
      expect(error.code).toBe(grpc.status.NOT_FOUND);
    });

    /** One request on the reflection stream, and its one response. */
    function reflect(request: Msg): Promise<Msg> {
      const stream = (reflection as unknown as Record<string, () => grpc.ClientDuplexStream<Msg, Msg>>).ServerReflectionInfo!();
      return new Promise<Msg>((resolve, reject) => {
        stream.on('data', (message: Msg) => {
          resolve(message);
          stream.end();
        });
        stream.on('error', reject);
        stream.write(request);
      });
    }

    it('server reflection lists the services', async () => {
      const response = await reflect({ listServices: '*' });
      expect(response.messageResponse).toBe('listServicesResponse');
      const names = (response.listServicesResponse.service as Msg[]).map((s) => s.name as string);
      expect(names).toEqual(expect.arrayContaining(['zhengtong.v1.DepartmentService', 'zhengtong.v1.PlatformService', 'grpc.health.v1.Health']));
    });

    it.each(['zhengtong.v1.DepartmentService', 'grpc.health.v1.Health'])('server reflection describes the file containing %s', async (symbol) => {
      const response = await reflect({ fileContainingSymbol: symbol });
      expect(response.messageResponse).toBe('fileDescriptorResponse');
      const files = response.fileDescriptorResponse.fileDescriptorProto as Buffer[];
      expect(files.length).toBeGreaterThan(0);
      expect(Buffer.concat(files).toString('latin1')).toContain(symbol.split('.').pop()!);
    });
  });

  describe('PlatformService', () => {
    it('GetInfo describes the instance', async () => {
      const info = await call(platform, 'GetInfo', {});
      expect(info).toMatchObject({ name: 'zhengtong', database: 'pglite', eventBus: 'memory' });
      expect(info.version).toBe(app.app.ctx.version);
      expect(info.instance).toBe(app.config.instanceId);
      expect(info.startedAt).toBeTruthy();
      const startedMs = Number(info.startedAt.seconds) * 1000 + Math.round(info.startedAt.nanos / 1e6);
      expect(startedMs).toBe(app.app.ctx.startedAt.getTime());
      expect(startedMs).toBeLessThanOrEqual(Date.now());
      expect(startedMs).toBeGreaterThan(Date.now() - 5 * 60_000);
    });
  });

  describe('DepartmentService', () => {
    it('ListDepartments with the default limit returns every department in code order', async () => {
      const page = await call(departments, 'ListDepartments', {});
      const codes = (page.items as Msg[]).map((d) => d.uscc as string);
      expect(codes).toEqual(expect.arrayContaining(DEMO_CODES));
      expect(codes).toEqual([...codes].sort());
      expect(page.next).toBe('');
      const police = (page.items as Msg[]).find((d) => d.uscc === '11210100001000010R')!;
      expect(police).toMatchObject({ name: '沈阳市公安局', shortName: '市公安局', areaCode: '210100' });
      expect(Number(police.createdAt.seconds)).toBeGreaterThan(0);
    });

    it('ListDepartments pages with limit 3 and the after cursor, without duplicates', async () => {
      const all = (await call(departments, 'ListDepartments', { limit: 500 })).items as Msg[];
      const seen: string[] = [];
      const sizes: number[] = [];
      let after = '';
      for (let pages = 0; pages < 20; pages++) {
        const page = await call(departments, 'ListDepartments', { limit: 3, after });
        const items = page.items as Msg[];
        sizes.push(items.length);
        expect(items.length).toBeLessThanOrEqual(3);
        seen.push(...items.map((d) => d.uscc as string));
        if (page.next === '') break;
        expect(page.next).toBe(items[items.length - 1]!.uscc);
        after = page.next as string;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(all.map((d) => d.uscc));
      expect(seen).toEqual(expect.arrayContaining(DEMO_CODES));
      expect(sizes.slice(0, -1).every((n) => n === 3)).toBe(true);
      expect(sizes.length).toBe(Math.ceil(all.length / 3) || 1);
    });

    it('GetDepartment returns a demo department', async () => {
      const d = await call(departments, 'GetDepartment', { uscc: '11210100001000029N' });
      expect(d).toMatchObject({ uscc: '11210100001000029N', name: '沈阳市市场监督管理局', shortName: '市场监管局', areaCode: '210100' });
      expect(Number(d.createdAt.seconds)).toBeGreaterThan(1_600_000_000);
    });

    it('RegisterDepartment stores a new department; registering it again is ALREADY_EXISTS', async () => {
      const code = uscc('11210100001099999');
      // Only the platform administrator registers departments.
      expect((await callError(departments, 'RegisterDepartment', { uscc: code, name: '冒充局' })).code).toBe(grpc.status.UNAUTHENTICATED);
      const other = demoSigner(app.config.dataDir, '11210100001000029N');
      const forbidden = await callError(departments, 'RegisterDepartment', { uscc: code, name: '冒充局' }, await signedAs(other, 'RegisterDepartment', { uscc: code, name: '冒充局' }));
      expect(forbidden.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(trailer(forbidden, 'zt-error-code')).toBe('ZT_ERR_ACCESS_FORBIDDEN');
      const before = Date.now();
      const registered = await call(departments, 'RegisterDepartment', { uscc: code, name: '沈阳市测试局', shortName: '测试局' }, await signedAs(platformOperatorKey(app.config), 'RegisterDepartment', { uscc: code, name: '沈阳市测试局', shortName: '测试局' }));
      expect(registered).toMatchObject({ uscc: code, name: '沈阳市测试局', shortName: '测试局', areaCode: '210100' });
      const createdMs = Number(registered.createdAt.seconds) * 1000 + Math.round(registered.createdAt.nanos / 1e6);
      expect(Math.abs(createdMs - before)).toBeLessThan(60_000);

      const fetched = await call(departments, 'GetDepartment', { uscc: code });
      expect(fetched).toEqual(registered);

      const again = await callError(departments, 'RegisterDepartment', { uscc: code, name: '沈阳市测试局' }, await signedAs(platformOperatorKey(app.config), 'RegisterDepartment', { uscc: code, name: '沈阳市测试局' }));
      expect(again.code).toBe(grpc.status.ALREADY_EXISTS);
      expect(trailer(again, 'zt-error-code')).toBe('ZT_ERR_DEPARTMENT_EXISTS');
      expect(errorBody(again).code).toBe('ZT_ERR_DEPARTMENT_EXISTS');
    });

    it('RegisterDepartment with an explicit area code keeps it', async () => {
      const code = uscc('11210100001099998');
      const registered = await call(departments, 'RegisterDepartment', { uscc: code, name: '沈阳市和平区测试局', areaCode: '210102' }, await signedAs(platformOperatorKey(app.config), 'RegisterDepartment', { uscc: code, name: '沈阳市和平区测试局', areaCode: '210102' }));
      expect(registered).toMatchObject({ uscc: code, shortName: '', areaCode: '210102' });
    });
    it('a registration of about 2.4 KB is accepted under the default body limit', async () => {
      const code = uscc('11210100001066665');
      const registered = await call(departments, 'RegisterDepartment', bigRegistration(code), await signedAs(platformOperatorKey(app.config), 'RegisterDepartment', bigRegistration(code)));
      expect(registered.shortName).toHaveLength(1800);
    });
  });

  describe('errors', () => {
    it('an invalid code is INVALID_ARGUMENT with the zt-error-code and zt-error-bin trailers', async () => {
      const error = await callError(departments, 'GetDepartment', { uscc: '11210100001000010X' });
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(trailer(error, 'zt-error-code')).toBe('ZT_ERR_ID_INVALID_USCC');
      const body = errorBody(error);
      expect(body.code).toBe('ZT_ERR_ID_INVALID_USCC');
      expect(body.message).toContain('11210100001000010X');
      expect(body.message).toBe(error.details);
      expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(trailer(error, 'x-request-id')).toBe(body.requestId);
    });

    it('registering an invalid code is INVALID_ARGUMENT and stores nothing', async () => {
      const error = await callError(departments, 'RegisterDepartment', { uscc: '112101000010000101', name: 'x' }, await signedAs(platformOperatorKey(app.config), 'RegisterDepartment', { uscc: '112101000010000101', name: 'x' }));
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(trailer(error, 'zt-error-code')).toBe('ZT_ERR_ID_INVALID_USCC');
    });

    it('an unknown but valid code is NOT_FOUND', async () => {
      const code = uscc('11210100001088888');
      const error = await callError(departments, 'GetDepartment', { uscc: code });
      expect(error.code).toBe(grpc.status.NOT_FOUND);
      expect(trailer(error, 'zt-error-code')).toBe('ZT_ERR_DEPARTMENT_NOT_FOUND');
      expect(errorBody(error).code).toBe('ZT_ERR_DEPARTMENT_NOT_FOUND');
    });

    it('limit 501 is INVALID_ARGUMENT ZT_ERR_REQUEST_INVALID; limit 500 is fine', async () => {
      const error = await callError(departments, 'ListDepartments', { limit: 501 });
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(trailer(error, 'zt-error-code')).toBe('ZT_ERR_REQUEST_INVALID');
      await expect(call(departments, 'ListDepartments', { limit: 500 })).resolves.toHaveProperty('items');
    });

    it('the x-request-id sent in metadata comes back in the error body and trailer', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'grpc-test-req-42');
      const error = await callError(departments, 'GetDepartment', { uscc: 'nonsense' }, metadata);
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(errorBody(error).requestId).toBe('grpc-test-req-42');
      expect(trailer(error, 'x-request-id')).toBe('grpc-test-req-42');
    });

    it('an x-request-id that is not acceptable is replaced by a generated one', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'has spaces and / slashes');
      const error = await callError(departments, 'GetDepartment', { uscc: 'nonsense' }, metadata);
      expect(errorBody(error).requestId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('a refusal that quotes a huge input is still answered, its message bounded', async () => {
      // Before the bound, trailers quoting 100,000 characters could not be sent and the call waited for its deadline.
      const withDeadline = departments.GetDepartment as unknown as (r: Msg, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v?: Msg) => void) => void;
      const error = await new Promise<grpc.ServiceError>((resolve, reject) => {
        withDeadline.call(departments, { uscc: '9'.repeat(100_000) }, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, value) =>
          err ? resolve(err) : reject(new Error(`expected an error, got ${JSON.stringify(value)}`)),
        );
      });
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(trailer(error, 'zt-error-code')).toBe('ZT_ERR_ID_INVALID_USCC');
      expect(error.details.length).toBeLessThan(1100);
      expect(errorBody(error).message).toBe(error.details);
    });

    it('bytes that are not protobuf are INVALID_ARGUMENT ZT_ERR_REQUEST_MALFORMED_PROTOBUF, and the server keeps answering', async () => {
      const raw = new grpc.Client(app.grpcAddress, insecure);
      try {
        const identity = (b: Buffer): Buffer => b;
        const error = await new Promise<grpc.ServiceError>((resolve, reject) => {
          raw.makeUnaryRequest(
            '/zhengtong.v1.DepartmentService/GetDepartment',
            identity,
            identity,
            // Field 1 (string), then a length varint that never ends within the buffer.
            Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            (err, value) => (err ? resolve(err) : reject(new Error(`expected an error, got ${value?.toString('hex')}`))),
          );
        });
        expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(trailer(error, 'zt-error-code')).toBe('ZT_ERR_REQUEST_MALFORMED_PROTOBUF');
        expect(errorBody(error).code).toBe('ZT_ERR_REQUEST_MALFORMED_PROTOBUF');
      } finally {
        raw.close();
      }
      const d = await call(departments, 'GetDepartment', { uscc: '11210100001000010R' });
      expect(d.name).toBe('沈阳市公安局');
    });
  });

  describe('metrics', () => {
    it('records zt_grpc_request_duration_seconds by method and status code', async () => {
      await call(departments, 'GetDepartment', { uscc: '11210100001000010R' });
      await callError(departments, 'GetDepartment', { uscc: uscc('11210100001077777') });
      const text = await app.app.ctx.metrics.registry.metrics();
      const counts = text.split('\n').filter((l) => l.startsWith('zt_grpc_request_duration_seconds_count{'));
      const okLine = counts.find((l) => l.includes('method="zhengtong.v1.DepartmentService/GetDepartment"') && l.includes('code="OK"'));
      const notFoundLine = counts.find((l) => l.includes('method="zhengtong.v1.DepartmentService/GetDepartment"') && l.includes('code="NOT_FOUND"'));
      expect(okLine).toBeDefined();
      expect(notFoundLine).toBeDefined();
      expect(Number(okLine!.split(' ').pop())).toBeGreaterThanOrEqual(1);
      expect(Number(notFoundLine!.split(' ').pop())).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('gRPC gateway with a small body limit', () => {
  let app: TestApp;
  let departments: Client;

  beforeAll(async () => {
    app = await startTestApp({ bodyLimitBytes: 2048 }, { seedDemo: false });
    departments = new clients.department(app.grpcAddress, insecure);
  });

  afterAll(async () => {
    departments?.close();
    await app?.close();
  });

  it('refuses a message larger than bodyLimitBytes with RESOURCE_EXHAUSTED and stores nothing', async () => {
    const code = uscc('11210100001066666');
    const error = await callError(departments, 'RegisterDepartment', bigRegistration(code));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const missing = await callError(departments, 'GetDepartment', { uscc: code });
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
    expect(trailer(missing, 'zt-error-code')).toBe('ZT_ERR_DEPARTMENT_NOT_FOUND');
  });

  it('still reads a message within the limit', async () => {
    const code = uscc('11210100001066667');
    // Decoded and answered (not found), not refused for its size.
    const missing = await callError(departments, 'GetDepartment', { uscc: code });
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
  });
});
