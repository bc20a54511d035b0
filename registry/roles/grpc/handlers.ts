// zhengtong.v1.RoleService: the roles over gRPC, with the checks, errors and evidence of the HTTP routes.
import { declareAccess, type CallContext, type UnaryHandler } from '../../../transport/grpc.js';
import { department, role } from '../../../transport/access.js';
import type { RegistryRole } from '../../../transport/access.js';
import type { RoleHolder, RoleRegistry, SignedRoleRequest } from '../role-registry.js';

export const ROLE_GRPC_SERVICE = 'zhengtong.v1.RoleService';

const holderMessage = (h: RoleHolder) => ({ role: h.role, department: h.department, since: h.since.toISOString(), grantedBy: h.grantedBy ?? '', source: h.source, reason: h.reason ?? '' });

function signedRequest(method: string, call: CallContext): SignedRoleRequest {
  return { caller: call.caller!, verified: call.verification!.verified!, method: 'POST', path: `/${ROLE_GRPC_SERVICE}/${method}`, body: call.raw };
}

const change = (request: Record<string, unknown>) => ({ role: String(request.role ?? ''), department: String(request.department ?? ''), reason: request.reason ? String(request.reason) : null });

export function roleHandlers(roles: RoleRegistry): Record<string, UnaryHandler> {
  return declareAccess(
    {
      ListRoles: async (request) => ({ holders: roles.holders((request.role as RegistryRole) || undefined).map(holderMessage) }),
      RoleHistory: async (request) => {
        const changes = await roles.history(request.department ? String(request.department).toUpperCase() : undefined);
        return { json: Buffer.from(JSON.stringify(changes), 'utf8') };
      },
      GrantRole: async (request, call) => holderMessage(await roles.grant(change(request), signedRequest('GrantRole', call))),
      WithdrawRole: async (request, call) => {
        await roles.withdraw(change(request), signedRequest('WithdrawRole', call));
        return { withdrawn: true };
      },
    },
    {
      ListRoles: department('any department: who holds which role is no secret among them'),
      RoleHistory: department('any department'),
      GrantRole: role('administrator'),
      WithdrawRole: role('administrator'),
    },
  );
}
