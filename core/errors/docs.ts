import { errorCatalogue, GrpcStatus, type ErrorCode } from './catalogue.js';

const GRPC_NAME = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

/** docs/errors.md, rendered from the catalogue so the two cannot drift. */
export function renderErrorDocs(): string {
  const rows = (Object.keys(errorCatalogue) as ErrorCode[]).map((code) => {
    const d = errorCatalogue[code];
    return `| \`${code}\` | ${d.http} | ${GRPC_NAME.get(d.grpc)} (${d.grpc}) | ${d.message} |`;
  });
  return `# Error codes

<!-- Generated from core/errors/catalogue.ts by \`npm run docs\`; a test fails when this file is out of date. -->

Every error zhengtong returns has a stable code. Over HTTP the body is always

\`\`\`json
{ "code": "ZT_ERR_…", "message": "what went wrong, for a person", "requestId": "…", "details": "optional, machine-readable" }
\`\`\`

with the HTTP status below and the request id also in the \`x-request-id\` header. Over gRPC the call fails with the
gRPC status below; the trailing metadata carries \`zt-error-code\` (the code) and \`zt-error-bin\` (the same JSON body,
UTF-8). Codes are never reused or renamed; new ones may be added. Start-up errors (configuration, ports, data
directory) are printed as one line on stderr with the code in brackets, and the process exits with status 1.

| Code | HTTP | gRPC | Meaning |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}
