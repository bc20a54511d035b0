export { RoleRegistry, ROLE_CHANGED_EVENT, type RoleBootstrap, type RoleChange, type RoleChangeInput, type RoleHolder, type SignedRequestEvidence, type SignedRoleRequest } from './role-registry.js';
export { roleRoutes } from './http/routes.js';
export { roleHandlers, ROLE_GRPC_SERVICE } from './grpc/handlers.js';
