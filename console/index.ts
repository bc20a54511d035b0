export { ConsoleActionLog, type ConsoleAction, type ConsoleActionRow } from './api/action-log.js';
export { consoleApiRoutes, type ConsoleApiOptions } from './api/routes.js';
