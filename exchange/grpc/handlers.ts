// zhengtong.v1.ExchangeService: the exchange over gRPC, with the semantics, errors and records of the HTTP route.
// The signature covers the serialised request message as received, and travels in the call's metadata.
import type * as grpc from '@grpc/grpc-js';
import { envelopeToMessage } from '../../certs/envelope/index.js';
import type { UnaryHandler } from '../../gateway/grpc/server.js';
import type { ExchangeService } from '../exchange-service.js';
import { GRPC_METADATA, presentedSignature } from '../protocol/request-signature.js';

export const EXCHANGE_QUERY_METHOD = '/zhengtong.v1.ExchangeService/Query';

function metadataValue(metadata: grpc.Metadata, name: string): string | Buffer | undefined {
  const values = metadata.get(name);
  return values.length > 0 ? values[0] : undefined;
}

export function exchangeHandlers(exchange: ExchangeService): Record<string, UnaryHandler> {
  const query: UnaryHandler = async (request, call) => {
    // proto3 reads an unset operator as '': the service takes '' as absent.
    const answer = await exchange.query({
      protocol: 'grpc',
      method: 'POST',
      path: EXCHANGE_QUERY_METHOD,
      body: call.raw,
      request,
      signature: () => presentedSignature((name) => metadataValue(call.metadata, GRPC_METADATA[name])),
    });
    return { result: answer.canonical, signature: envelopeToMessage(answer.signature) };
  };
  query.onUndecodable = (code, latencyMs) => void exchange.recordUnreadable('grpc', code, latencyMs);
  return { Query: query };
}
