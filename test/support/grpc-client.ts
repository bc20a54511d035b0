// gRPC clients for end-to-end tests, built independently of the server: @grpc/proto-loader on proto/, whereas the
// server decodes with protobufjs.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageRoot } from '../../core/paths.js';

export type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type UnaryFn = (request: Msg, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: Msg) => void) => grpc.ClientUnaryCall;
export type Client = grpc.Client & Record<string, UnaryFn>;

/** A client of `zhengtong.v1.<service>` from `proto/zhengtong/v1/<file>`, connected to address. */
export function serviceClient(file: string, service: string, address: string): Client {
  const definition = grpc.loadPackageDefinition(
    protoLoader.loadSync(`zhengtong/v1/${file}`, { includeDirs: [join(packageRoot(), 'proto')], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }),
  ) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const Ctor = definition.zhengtong.v1[service] as new (address: string, credentials: grpc.ChannelCredentials) => Client;
  return new Ctor(address, grpc.credentials.createInsecure());
}

export function unary(client: Client, method: string, request: Msg = {}, metadata = new grpc.Metadata()): Promise<Msg> {
  return new Promise((resolve, reject) => {
    client[method]!(request, metadata, (error, response) => (error ? reject(error) : resolve(response!)));
  });
}

/** The call's error; fails the test when the call succeeds. */
export async function unaryError(client: Client, method: string, request: Msg = {}, metadata = new grpc.Metadata()): Promise<grpc.ServiceError> {
  const outcome = await unary(client, method, request, metadata).then(
    (response) => ({ ok: true as const, response }),
    (error: grpc.ServiceError) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`${method} succeeded but an error was expected: ${JSON.stringify(outcome.response)}`);
  return outcome.error;
}

/** The method's full path and the bytes the client will send for `request` (what a request signature covers). */
export function serialised(client: Client, method: string, request: Msg): { path: string; bytes: Buffer } {
  const definition = (client.constructor as unknown as { service: Record<string, { path: string; requestSerialize(m: Msg): Buffer }> }).service[method]!;
  return { path: definition.path, bytes: definition.requestSerialize(request) };
}
