import { PUBLIC } from '../../../transport/access.js';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ZtError } from '../../../core/errors/index.js';
import { errorResponses } from '../../../transport/http-errors.js';
import { exportPem } from '../../x509/index.js';
import type { PlatformCa, PublishedCrl } from '../platform-ca.js';

const issuedCertificateSchema = {
  $id: 'IssuedCertificate',
  type: 'object',
  required: ['serial', 'subject', 'departmentUscc', 'fingerprintSm3', 'notBefore', 'notAfter', 'issuedAt', 'revokedAt', 'revocationReason', 'status', 'pem'],
  properties: {
    serial: { type: 'string', description: 'Hexadecimal, upper case.' },
    subject: { type: 'string' },
    departmentUscc: { type: ['string', 'null'] },
    fingerprintSm3: { type: 'string', description: 'SM3 of the DER certificate, hex.' },
    notBefore: { type: 'string', format: 'date-time' },
    notAfter: { type: 'string', format: 'date-time' },
    issuedAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    revocationReason: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['good', 'revoked', 'expired'] },
    pem: { type: 'string' },
  },
} as const;

function sendCrl(reply: FastifyReply, crl: PublishedCrl, pem: boolean): FastifyReply {
  // Relying parties may cache a CRL until its nextUpdate; re-signed CRLs carry a new number, hence a new ETag.
  const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000));
  reply
    .header('cache-control', `public, max-age=${Math.min(maxAge, 300)}`)
    .header('last-modified', crl.thisUpdate.toUTCString())
    .header('etag', `"crl-${crl.crlNumber}"`)
    .type(pem ? 'application/x-pem-file' : 'application/pkix-crl');
  return reply.send(pem ? crl.pem : crl.der);
}

/** The platform CA over HTTP: certificates, CRLs (DER and PEM) and certificate status. Null CA: 409 everywhere. */
export function caRoutes(ca: PlatformCa | null): FastifyPluginAsync {
  const need = (): PlatformCa => {
    if (!ca) throw new ZtError('ZT_ERR_CA_NOT_INITIALISED', 'this instance has no platform CA; create one with `zhengtong ca init` (ZT_CA_DIR)');
    return ca;
  };
  const binary = { 200: { type: 'string', description: 'DER or PEM' }, ...errorResponses };
  return async (app) => {
    app.addSchema(issuedCertificateSchema);
    app.get('/v1/ca/root.pem', { config: { access: PUBLIC }, schema: { tags: ['ca'], summary: 'The platform root CA certificate (the trust anchor), PEM.', response: binary } }, async (_r, reply) =>
      reply.type('application/x-pem-file').send(exportPem(need().root)),
    );
    app.get('/v1/ca/issuing.pem', { config: { access: PUBLIC }, schema: { tags: ['ca'], summary: 'The issuing CA certificate, PEM.', response: binary } }, async (_r, reply) =>
      reply.type('application/x-pem-file').send(exportPem(need().issuing)),
    );
    app.get('/v1/ca/crl', { config: { access: PUBLIC }, schema: { tags: ['ca'], summary: 'The issuing CA\'s current CRL, DER (application/pkix-crl).', response: binary } }, async (_r, reply) =>
      sendCrl(reply, await need().crl(), false),
    );
    app.get('/v1/ca/crl.pem', { config: { access: PUBLIC }, schema: { tags: ['ca'], summary: 'The issuing CA\'s current CRL, PEM (X509 CRL).', response: binary } }, async (_r, reply) =>
      sendCrl(reply, await need().crl(), true),
    );
    app.get('/v1/ca/root.crl', { config: { access: PUBLIC }, schema: { tags: ['ca'], summary: 'The root CA\'s CRL (revoked issuing CAs), DER.', response: binary } }, async (_r, reply) =>
      sendCrl(reply, await need().rootCrl(), false),
    );
    app.get<{ Params: { serial: string } }>(
      '/v1/ca/certificates/:serial',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['ca'],
          summary: 'Status of a certificate the platform CA issued: good, revoked (with reason) or expired.',
          params: { type: 'object', required: ['serial'], properties: { serial: { type: 'string', maxLength: 64 } } },
          response: { 200: { $ref: 'IssuedCertificate#' }, ...errorResponses },
        },
      },
      (request) => need().status(request.params.serial),
    );
  };
}
