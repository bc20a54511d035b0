// zhengtong.v1.ExchangeService: the exchange over gRPC, with the semantics, errors and records of the HTTP route.
// The signature covers the serialised request message as received, and travels in the call's metadata.
import { envelopeToMessage } from '../../certs/envelope/index.js';
import { withAccess, type UnaryHandler } from '../../transport/grpc.js';
import { department } from '../../transport/access.js';
import type { ExchangeService } from '../exchange-service.js';
import { presentedGrpcSignature } from '../../transport/request-signature.js';

export const EXCHANGE_QUERY_METHOD = '/zhengtong.v1.ExchangeService/Query';


export function exchangeHandlers(exchange: ExchangeService): Record<string, UnaryHandler> {
  const query: UnaryHandler = async (request, call) => {
    // proto3 reads an unset operator as '': the service takes '' as absent.
    const answer = await exchange.query({
      protocol: 'grpc',
      method: 'POST',
      path: EXCHANGE_QUERY_METHOD,
      body: call.raw,
      request,
      signature: () => presentedGrpcSignature(call.metadata),
      verification: call.verification,
    });
    return { result: answer.canonical, signature: envelopeToMessage(answer.signature) };
  };
  query.onUndecodable = (code, latencyMs) => exchange.recordUnreadable('grpc', code, latencyMs);
  return { Query: withAccess(department('a department with a grant for the resource, items and service item', { recordsRefusals: true, whileVerifying: exchange.whileVerifying }), query) };
}
