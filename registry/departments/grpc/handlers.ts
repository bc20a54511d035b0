import { declareAccess, type UnaryHandler } from '../../../transport/grpc.js';
import { PUBLIC, role } from '../../../transport/access.js';
import { toTimestamp } from '../../../transport/grpc.js';
import type { Department } from '../department.js';
import type { DepartmentService } from '../service.js';

function toMessage(d: Department): Record<string, unknown> {
  return { uscc: d.uscc, name: d.name, shortName: d.shortName ?? '', areaCode: d.areaCode, createdAt: toTimestamp(d.createdAt) };
}

/** zhengtong.v1.DepartmentService: the same service calls, errors and events as the HTTP routes. */
export function departmentHandlers(service: DepartmentService): Record<string, UnaryHandler> {
  return declareAccess({
    ListDepartments: async (request) => {
      const page = await service.list(Number(request.limit) || 100, (request.after as string) || null);
      return { items: page.items.map(toMessage), next: page.next ?? '' };
    },
    GetDepartment: async (request) => toMessage(await service.get(String(request.uscc))),
    RegisterDepartment: async (request) =>
      toMessage(
        await service.register({
          uscc: String(request.uscc),
          name: String(request.name),
          shortName: (request.shortName as string) || null,
          ...(request.areaCode ? { areaCode: String(request.areaCode) } : {}),
        }),
      ),
  }, {
    ListDepartments: PUBLIC,
    GetDepartment: PUBLIC,
    RegisterDepartment: role('administrator'),
  });
}
