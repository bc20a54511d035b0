export { DEPARTMENT_EVENTS_TOPIC, assertUscc, normaliseRegistration, type Department, type DepartmentRegistration } from './department.js';
export type { DepartmentPage, DepartmentStore } from './store.js';
export { SqlDepartmentStore } from './sql/sql-department-store.js';
export { DepartmentService, MAX_PAGE } from './service.js';
