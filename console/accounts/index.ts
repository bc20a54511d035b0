// People of the web console (控制台账户与会话): accounts, password sign-in with lockout, sessions in the database with
// idle and absolute timeouts and a CSRF token, sign-in at the city's identity provider (OpenID Connect), the HTTP
// routes of all that, and the demo's accounts. docs/console-sign-in.md says how to run it.
export {
  ConsoleAccounts,
  normaliseLogin,
  type AccountSource,
  type ConsoleAccount,
  type ConsoleAccountsOptions,
  type NewConsoleAccount,
  type SessionEndReason,
} from './accounts.js';
export { ConsoleSessions, DEFAULT_CONSOLE_SESSION_SETTINGS, type ConsoleSessionSettings, type ConsoleSessionsOptions, type SessionState, type StartedSession } from './sessions.js';
export { OidcSignIn, parseOidcDepartments, OIDC_STATE_COOKIE, OIDC_FLOW_SECONDS, type OidcSettings, type OidcSignInOptions } from './oidc.js';
export { consoleSessionRoutes, type ConsoleSessionRoutesOptions } from './http/routes.js';
export { seedDemoAccounts, demoPassword, DEMO_ACCOUNTS_FILE_NAME, DEMO_DATA_BUREAU, DEMO_PORTAL, DEMO_PROVIDER, type DemoAccount, type DemoAccountsReport, type SeedDemoAccountsOptions } from './demo.js';
export { hashPassword, verifyPassword, checkPasswordRules, PASSWORD_MIN_LENGTH, DEFAULT_SCRYPT_COST, type ScryptCost } from './passwords.js';
export type { ClientInfo, SignInEventKind } from './events.js';
