// /v1/roles: who holds which role since when and who granted it, and the administrator's signed grants and
// withdrawals (docs/access-control.md).
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../../transport/http-errors.js';
import { requireCaller, signedHttpCall } from '../../../transport/http-signed-body.js';
import { department, role } from '../../../transport/access.js';
import { REGISTRY_ROLES, type RegistryRole } from '../../../transport/access.js';
import type { RoleRegistry, RoleHolder, RoleChange, SignedRoleRequest } from '../role-registry.js';
import type { FastifyRequest } from 'fastify';

const holderJson = (h: RoleHolder) => ({ role: h.role, department: h.department, since: h.since.toISOString(), grantedBy: h.grantedBy, source: h.source, reason: h.reason });
const changeJson = (c: RoleChange) => ({
  id: c.id,
  role: c.role,
  department: c.department,
  action: c.action,
  at: c.at.toISOString(),
  by: c.by,
  source: c.source,
  reason: c.reason,
  statement: c.statement ? { key: c.statement.key, signedAt: c.statement.signedAt.toISOString(), signedRequest: c.statement.envelope } : null,
});

const changeBody = {
  type: 'object',
  required: ['role', 'department'],
  additionalProperties: false,
  properties: {
    role: { type: 'string', enum: [...REGISTRY_ROLES] },
    department: { type: 'string', description: 'USCC of the department.' },
    reason: { type: 'string', maxLength: 500 },
  },
} as const;

const holderSchema = { type: 'object', additionalProperties: true } as const;

/** The gateway verified the signed request; the registry keeps it as the change's evidence. */
function signedRequest(request: FastifyRequest): SignedRoleRequest {
  const call = signedHttpCall(request);
  return { caller: requireCaller(request), verified: call.verification!.verified!, method: call.method, path: call.path, body: call.body };
}

export function roleRoutes(roles: RoleRegistry): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { role?: RegistryRole } }>(
      '/v1/roles',
      {
        config: { access: department('any department: who holds which role is no secret among them') },
        schema: {
          tags: ['roles'],
          summary: 'The roles in force: each holder, since when, who granted it (null: bootstrapped from configuration).',
          querystring: { type: 'object', additionalProperties: false, properties: { role: { type: 'string', enum: [...REGISTRY_ROLES] } } },
          response: { 200: { type: 'object', properties: { holders: { type: 'array', items: holderSchema } } }, ...errorResponses },
        },
      },
      async (request) => ({ holders: roles.holders(request.query.role).map(holderJson) }),
    );

    app.get<{ Querystring: { department?: string } }>(
      '/v1/roles/history',
      {
        config: { access: department('any department') },
        schema: {
          tags: ['roles'],
          summary: 'Every grant and withdrawal, oldest first, each with the signed request that made it (verifiable offline).',
          querystring: { type: 'object', additionalProperties: false, properties: { department: { type: 'string', maxLength: 18 } } },
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
      },
      async (request) => ({ changes: (await roles.history(request.query.department?.toUpperCase())).map(changeJson) }),
    );

    app.post<{ Body: { role: string; department: string; reason?: string } }>(
      '/v1/roles/grants',
      {
        config: { access: role('administrator') },
        schema: { tags: ['roles'], summary: 'Grant a role, signed by a platform administrator.', body: changeBody, response: { 201: holderSchema, ...errorResponses } },
      },
      async (request, reply) => reply.code(201).send(holderJson(await roles.grant(request.body, signedRequest(request)))),
    );

    app.post<{ Body: { role: string; department: string; reason?: string } }>(
      '/v1/roles/withdrawals',
      {
        config: { access: role('administrator') },
        schema: {
          tags: ['roles'],
          summary: 'Withdraw a role, signed by a platform administrator (the last administrator cannot be withdrawn).',
          body: changeBody,
          response: { 200: { type: 'object', properties: { withdrawn: { type: 'boolean' } } }, ...errorResponses },
        },
      },
      async (request) => {
        await roles.withdraw(request.body, signedRequest(request));
        return { withdrawn: true };
      },
    );
  };
}
