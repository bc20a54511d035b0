// zhengtong.v1.IntakeService: application intake over gRPC, with the semantics and errors of the HTTP routes. The
// signed calls carry their JSON request in a bytes field and are signed over the full method name and the message.
import { department, PUBLIC } from '../../transport/access.js';
import { envelopeToMessage } from '../../certs/envelope/index.js';
import { ZtError } from '../../core/errors/index.js';
import { presentedGrpcSignature } from '../../transport/request-signature.js';
import { declareAccess, type CallContext, type UnaryHandler } from '../../transport/grpc.js';
import type { IntakeCall, IntakeService } from '../intake-service.js';

export const INTAKE_GRPC_SERVICE = 'zhengtong.v1.IntakeService';

function json(value: unknown): { json: Buffer } {
  return { json: Buffer.from(JSON.stringify(value), 'utf8') };
}

function signedCall(method: string, request: Record<string, unknown>, call: CallContext): IntakeCall {
  const bytes = request.json instanceof Uint8Array ? Buffer.from(request.json) : Buffer.alloc(0);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_MALFORMED_JSON', `the ${method} request's json is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return {
    protocol: 'grpc',
    method: 'POST',
    path: `/${INTAKE_GRPC_SERVICE}/${method}`,
    body: call.raw,
    request: body,
    signature: () => presentedGrpcSignature(call.metadata),
    verification: call.verification,
  };
}

export function intakeHandlers(intake: IntakeService): Record<string, UnaryHandler> {
  return declareAccess({
    ListServiceItems: async () => json({ items: intake.items() }),
    GetServiceItem: async (request) => json(intake.item(String(request.code ?? ''))),
    Preview: async (request, call) => json(await intake.preview(signedCall('Preview', request, call))),
    Prefill: async (request, call) => {
      const answer = await intake.prefill(signedCall('Prefill', request, call));
      return { result: answer.canonical, signature: envelopeToMessage(answer.signature) };
    },
    Submit: async (request, call) => json(await intake.submit(signedCall('Submit', request, call))),
  }, {
    ListServiceItems: PUBLIC,
    GetServiceItem: PUBLIC,
    Preview: department('an intake department of the service item'),
    Prefill: department('an intake department of the service item'),
    Submit: department('the intake department the prefill was made for'),
  });
}
