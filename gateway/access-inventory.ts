// The access inventory: every HTTP route (from the OpenAPI document, where the gateway writes each route's class as
// x-zt-access) and every gRPC method with its class. docs/access-control.md is rendered from it, and a test fails
// when the file and the running gateway disagree.
import { describeAccess, type AccessClass } from '../transport/access.js';

export interface InventoryLine {
  readonly surface: 'HTTP' | 'gRPC';
  readonly name: string;
  readonly access: string;
  readonly who: string;
}

interface OpenApiOperation {
  'x-zt-access'?: string;
  'x-zt-who'?: string;
}

/** The HTTP routes of an OpenAPI document (the API docs' own pages are left out: they are public). */
export function httpInventory(openapi: { paths: Record<string, Record<string, OpenApiOperation>> }): InventoryLine[] {
  const lines: InventoryLine[] = [];
  for (const [path, operations] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      lines.push({ surface: 'HTTP', name: `${method.toUpperCase()} ${path}`, access: operation['x-zt-access'] ?? '(none)', who: operation['x-zt-who'] ?? '' });
    }
  }
  return lines.sort((a, b) => a.name.localeCompare(b.name));
}

export function grpcInventory(access: ReadonlyMap<string, AccessClass>): InventoryLine[] {
  return [...access]
    .map(([name, a]) => ({ surface: 'gRPC' as const, name, ...describeAccess(a) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderAccessDoc(lines: readonly InventoryLine[]): string {
  const table = (surface: 'HTTP' | 'gRPC'): string =>
    ['| ' + (surface === 'HTTP' ? 'Route' : 'Method') + ' | Access | Who |', '| --- | --- | --- |', ...lines.filter((l) => l.surface === surface).map((l) => `| \`${cell(l.name)}\` | ${cell(l.access)} | ${cell(l.who)} |`)].join('\n');
  return `# Access control

<!-- Generated from the running gateway by test/access-control.test.ts (ZT_WRITE_DOCS=1 npx vitest run test/access-control.test.ts); do not edit by hand. -->

Every HTTP route and gRPC method declares who may call it where it is registered (\`config.access\` on a route,
\`declareAccess\`/\`withAccess\` for a method; the classes are in \`transport/access.ts\`). The gateway refuses to
start with a route or method that declares none, and enforces the classes in one place (\`gateway/access.ts\`) before
any handler runs, for HTTP and gRPC alike:

- **public**: anyone. Health, readiness, metrics, API docs, CA certificates and CRLs, licence status lists, the
  published catalogue (supply and demand lists), anonymous masked licence verification, negative-list dry runs.
- **department**: a request signed with the \`Zt-*\` headers (gRPC metadata) by a department's platform-CA
  certificate (docs/exchange-protocol.md): time window, certificate chain and CRL, SM2 signature, and a nonce
  claimed once across instances. An unsigned or badly signed call gets 401 with its own code
  (\`ZT_ERR_REQUEST_UNSIGNED\`, \`ZT_ERR_SIGNATURE_INVALID\`, \`ZT_ERR_CERT_REVOKED\`, …).
- **role**: the same, from a department that holds the role in the role registry (\`GET /v1/roles\`,
  \`zhengtong role list\`); otherwise 403 \`ZT_ERR_ACCESS_FORBIDDEN\` (the access log's own reads answer
  \`ZT_ERR_AUDIT_FORBIDDEN\`), and the attempt is recorded with the access log's queries.
- **signed statement**: the body carries a statement signed by the department that takes the step (the provider of a
  resource, an issuer of a licence type, the requesting department of a demand; docs/signed-transitions.md). Without
  one the gateway answers 401 \`ZT_ERR_TRANSITION_UNSIGNED\`; the feature verifies the statement against the same
  trust store and checks the signer's right to the object.

Routes whose service records every refusal in the access log (the exchange, licence checks, intake, the access
log's reads) receive the gateway's check of the signature and refuse through their service, so a refused request is
recorded too; a service cannot check the same request again (its nonce is claimed).

One route starts work while the signature is being checked: the exchange's query. Once the time window and the
certificate are accepted, and the certificate is the requester's, a grant covers the query and the negative list
releases items, it starts reading the supplier's extract held in the platform's own database, so that the read and the
signature check overlap (\`WhileVerifying\` in \`transport/signed-call.ts\`). Nothing it reads is released unless every
check passes and the access record is committed; a refused request's read is dropped. A supplier's own system (an
\`http\` connector) is never asked before the signature verifies.

Roles: **administrator** (the platform operator's department, bootstrapped once from \`ZT_PLATFORM_USCC\`; grants and
withdraws roles, registers departments), **supervisor** (reads the access log), **portal** (shows a citizen or
enterprise the reads of their data). The older \`ZT_AUDIT_SUPERVISORS\` and \`ZT_AUDIT_PORTALS\` settings only bootstrap
those roles once, with a deprecation warning.

## HTTP

${table('HTTP')}

## gRPC

${table('gRPC')}
`;
}
