import { PUBLIC, role } from '../../../transport/access.js';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../../transport/http-errors.js';
import type { DepartmentService } from '../service.js';
import { MAX_PAGE } from '../service.js';

const uscc = { type: 'string', minLength: 18, maxLength: 18, description: '统一社会信用代码 (unified social credit code, GB 32100).', examples: ['11210100001234567X'] } as const;

const departmentSchema = {
  $id: 'Department',
  type: 'object',
  required: ['uscc', 'name', 'shortName', 'areaCode', 'createdAt'],
  properties: {
    uscc,
    name: { type: 'string', examples: ['沈阳市市场监督管理局'] },
    shortName: { type: ['string', 'null'] },
    areaCode: { type: 'string', pattern: '^\\d{6}$', description: '行政区划代码 of the jurisdiction.' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

interface ListQuery {
  limit: number;
  after?: string;
}
interface Params {
  uscc: string;
}
interface RegisterBody {
  uscc: string;
  name: string;
  shortName?: string | null;
  areaCode?: string;
}

export function departmentRoutes(service: DepartmentService): FastifyPluginAsync {
  return async (app) => {
    app.addSchema(departmentSchema);

    app.get<{ Querystring: ListQuery }>(
      '/v1/departments',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['departments'],
          summary: 'List registered departments, by code, a page at a time.',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
              after: { ...uscc, description: 'Cursor: the `next` value of the previous page.' },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['items', 'next'],
              properties: { items: { type: 'array', items: { $ref: 'Department#' } }, next: { type: ['string', 'null'] } },
            },
            ...errorResponses,
          },
        },
      },
      (request) => service.list(request.query.limit, request.query.after ?? null),
    );

    app.get<{ Params: Params }>(
      '/v1/departments/:uscc',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['departments'],
          summary: 'One department by its unified social credit code.',
          params: { type: 'object', required: ['uscc'], properties: { uscc: { type: 'string', maxLength: 64 } } },
          response: { 200: { $ref: 'Department#' }, ...errorResponses },
        },
      },
      (request) => service.get(request.params.uscc),
    );

    app.post<{ Body: RegisterBody }>(
      '/v1/departments',
      {
        config: { access: role('administrator') },
        schema: {
          tags: ['departments'],
          summary: 'Register a department. Publishes department.registered on the event bus.',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['uscc', 'name'],
            properties: {
              uscc,
              name: { type: 'string', minLength: 1, maxLength: 200 },
              shortName: { type: ['string', 'null'], maxLength: 50 },
              areaCode: { type: 'string', pattern: '^\\d{6}$' },
            },
          },
          response: { 201: { $ref: 'Department#' }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const department = await service.register(request.body);
        return reply.code(201).send(department);
      },
    );
  };
}
