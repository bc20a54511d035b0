// `zhengtong sign` and `zhengtong verify`: SM2 signatures and signed envelopes from the command line, offline (no
// database, no servers). Signatures are standard SM2 with the GM/T 0009 default ID, so OpenSSL (with distid),
// GmSSL, BouncyCastle and sm-crypto check what `sign` makes, and `verify` checks what they make — and, when a
// signature fails, says which of the usual mistakes made it (empty ID, ECDSA, no ZA) rather than just "invalid".
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { ZtError } from '../core/errors/index.js';
import {
  decodeEnvelopeJson,
  decodeEnvelopeProtobuf,
  encodeEnvelopeJson,
  encodeEnvelopeProtobuf,
  envelopeToJson,
  signEnvelope,
  verifyEnvelope,
  type SignedEnvelope,
} from '../certs/envelope/index.js';
import { signTransition } from '../registry/catalogue/signed-transitions.js';
import { InProcessSm2Signer } from '../certs/signer/index.js';
import { assertSm2Signature } from '../certs/sm2/diagnose.js';
import { loadSm2PublicKey, publicPoint, sm3 } from '../certs/sm2/sm2.js';
import { assertCertificateUsage, parseCertificate, parseCrl, readUscc, sameName, validateChain, verifyCrl, type x509 } from '../certs/x509/index.js';
import { UsageError } from './common.js';

/** A mistake in the command line; runSignCommand names the command's --help with it. */
function usage(message: string): never {
  throw new UsageError(message);
}

function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

function parse(argv: string[], options: ParseArgsConfig['options']): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options }) as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  } catch (error) {
    return usage((error as Error).message);
  }
}

const FORMATS = ['der', 'json', 'protobuf'] as const;
type Format = (typeof FORMATS)[number];

/**
 * Entry point for `zhengtong sign …` and `zhengtong verify …` (argv includes the command); usage is answered by
 * cli/main.ts first. A usage error is ZT_ERR_REQUEST_INVALID, pointing at the command's --help.
 */
export async function runSignCommand(argv: string[]): Promise<void> {
  const command = argv[0];
  try {
    if (command === 'sign') return await runSign(argv.slice(1));
    if (command === 'verify') return await runVerify(argv.slice(1));
    usage(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) throw new ZtError('ZT_ERR_REQUEST_INVALID', `${error.message} (zhengtong ${command === 'verify' ? 'verify' : 'sign'} --help)`);
    throw error;
  }
}

async function runSign(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    key: { type: 'string' },
    'passphrase-file': { type: 'string' },
    cert: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    step: { type: 'string' },
    demand: { type: 'string' },
  });
  if (positionals.length > 0) usage(`unexpected argument "${positionals[0]}"`);
  const keyFile = values.key as string | undefined;
  const inFile = values.in as string | undefined;
  if (!keyFile || !inFile) usage('sign needs --key KEY.pem and --in FILE');
  const format = (values.format as string | undefined) ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format)) usage(`--format must be one of ${FORMATS.join(', ')}, not "${format}"`);

  const passphraseFile = values['passphrase-file'] as string | undefined;
  const passphrase = passphraseFile ? readBytes(passphraseFile, 'passphrase file').toString('utf8').replace(/\r?\n$/, '') : undefined;
  const certFile = values.cert as string | undefined;
  const certificate = certFile ? parseCertificate(readBytes(certFile, 'certificate')) : undefined;
  const signer = new InProcessSm2Signer({
    privateKey: readBytes(keyFile, 'private key'),
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(certificate ? { certificate: new Uint8Array(certificate.rawData) } : {}),
  });
  // A certificate that may not sign would make signatures every verifier refuses: say so now.
  if (certificate) assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });
  const payload = readBytes(inFile, 'input file');
  const step = values.step as string | undefined;
  if (step !== undefined) {
    const out = await signStep(signer, step, values.demand as string | undefined, payload, certificate !== undefined);
    await signer.close();
    process.stdout.write(out);
    return;
  }

  let output: Uint8Array;
  switch (format as Format) {
    case 'der':
      output = await signer.sign(payload);
      break;
    case 'json':
      output = Buffer.from(`${encodeEnvelopeJson(await signEnvelope(signer, payload))}\n`);
      break;
    case 'protobuf':
      output = encodeEnvelopeProtobuf(await signEnvelope(signer, payload));
      break;
  }
  await signer.close();
  const outFile = values.out as string | undefined;
  if (outFile) {
    try {
      writeFileSync(outFile, output);
    } catch (error) {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot write ${outFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    process.stdout.write(`signed ${inFile} (${payload.length} bytes, SM3 ${sm3(payload).toString('hex')}): ${format} signature written to ${outFile}\n`);
  } else {
    process.stdout.write(output);
  }
}

const STEPS = ['register', 'approve', 'refuse', 'withdraw', 'import'] as const;

/** A demand step signed as the department in the certificate: the body to send, or an import's header value. */
async function signStep(signer: InProcessSm2Signer, step: string, demandId: string | undefined, payload: Buffer, hasCertificate: boolean): Promise<string> {
  if (!(STEPS as readonly string[]).includes(step)) usage(`--step must be one of ${STEPS.join(', ')}, not "${step}"`);
  if (!hasCertificate) usage('a signed step carries the certificate: give --cert CERT.pem');
  const uscc = readUscc(parseCertificate(signer.certificate!.der));
  if (!uscc) usage("the certificate names no department (no USCC in its subject): it cannot sign a department's step");
  const kind = step as (typeof STEPS)[number];
  if (kind === 'import') {
    const envelope = await signTransition(signer, { kind, actor: uscc, content: { documentSm3: sm3(payload).toString('hex') } });
    return `${Buffer.from(encodeEnvelopeJson(envelope)).toString('base64')}\n`;
  }
  if (kind !== 'register' && !demandId) usage(`--step ${kind} needs --demand ID`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(payload.toString('utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_MALFORMED_JSON', `the step body is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) usage('the step body must be a JSON object');
  const actor = kind === 'register' ? body.requester : body.actor;
  if (actor !== uscc) usage(`the body acts for ${String(actor)}, but the certificate is ${uscc}'s`);
  const { signature: _old, ...content } = body;
  const envelope = await signTransition(signer, { kind, demandId: demandId ?? null, actor: uscc, content });
  return `${JSON.stringify({ ...content, signature: envelopeToJson(envelope) })}\n`;
}

type DetectedSignature = { format: 'der'; signature: Buffer } | { format: 'json' | 'protobuf'; envelope: SignedEnvelope };

/**
 * DER, JSON or protobuf, from the first byte: a DER SEQUENCE starts 0x30, a JSON object '{' (after white space or a
 * BOM), a protobuf SignedEnvelope with field 1 (version, varint) 0x08 — 0x30 would be field 6 as a varint, which the
 * envelope's batch (a message) can never be, so the three do not overlap.
 */
function detectSignature(bytes: Buffer): DetectedSignature {
  const text = bytes.subarray(0, 16).toString('latin1').replace(/^\xEF\xBB\xBF/, '').trimStart();
  if (text.startsWith('{')) return { format: 'json', envelope: decodeEnvelopeJson(bytes.toString('utf8').replace(/^\uFEFF/, '')) };
  if (bytes[0] === 0x30) return { format: 'der', signature: bytes };
  if (bytes[0] === 0x08) return { format: 'protobuf', envelope: decodeEnvelopeProtobuf(bytes) };
  try {
    return { format: 'protobuf', envelope: decodeEnvelopeProtobuf(bytes) };
  } catch {
    throw new ZtError('ZT_ERR_SIGNATURE_MALFORMED', 'the signature file is neither a DER SM2 signature nor a JSON or protobuf signed envelope');
  }
}

function strings(value: string | string[] | boolean | undefined): string[] {
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

/**
 * With --crl, the signer's certificate must have been checked against a current CRL that its issuer signed: a stale,
 * foreign or forged CRL alone would otherwise let a revoked certificate pass without a word.
 */
async function assertCoveredByCrl(issuer: x509.X509Certificate, crls: readonly x509.X509Crl[]): Promise<void> {
  const now = Date.now();
  for (const crl of crls) {
    if (!sameName(crl.issuerName, issuer.subjectName)) continue;
    if (crl.thisUpdate.getTime() > now || (crl.nextUpdate && crl.nextUpdate.getTime() < now)) continue;
    try {
      await verifyCrl(crl, issuer);
      return;
    } catch {
      // Not signed by the issuer: it does not count.
    }
  }
  throw new ZtError('ZT_ERR_CERT_CHAIN_INVALID', `no current CRL signed by "${issuer.subject}", the issuer of the signer's certificate, among the --crl given: revocation cannot be checked`);
}

/** The signer as a person reads it: the common name (else the whole subject) and the USCC the certificate carries. */
function describeSigner(cert: x509.X509Certificate): string {
  const uscc = readUscc(cert);
  const commonName = cert.subjectName.getField('2.5.4.3')[0];
  return `${commonName ?? cert.subject}${uscc ? ` (USCC ${uscc})` : ''}`;
}

async function runVerify(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    in: { type: 'string' },
    sig: { type: 'string' },
    ca: { type: 'string', multiple: true },
    intermediate: { type: 'string', multiple: true },
    crl: { type: 'string', multiple: true },
    cert: { type: 'string' },
    pubkey: { type: 'string' },
  });
  if (positionals.length > 0) usage(`unexpected argument "${positionals[0]}"`);
  const inFile = values.in as string | undefined;
  const sigFile = values.sig as string | undefined;
  if (!inFile || !sigFile) usage('verify needs --in FILE and --sig SIG');
  const certFile = values.cert as string | undefined;
  const pubkeyFile = values.pubkey as string | undefined;
  const caFiles = strings(values.ca);
  const intermediateFiles = strings(values.intermediate);
  const crlFiles = strings(values.crl);
  if (certFile && pubkeyFile) usage('give the signer as --cert or as --pubkey, not both');
  if (caFiles.length === 0 && (intermediateFiles.length > 0 || crlFiles.length > 0)) usage('--intermediate and --crl need a trust anchor, --ca ROOT.pem');

  const payload = readBytes(inFile, 'input file');
  const detected = detectSignature(readBytes(sigFile, 'signature file'));
  const envelope = detected.format === 'der' ? undefined : detected.envelope;

  // The signer's certificate: given, or carried by the envelope (used with --pubkey only to check it against --ca).
  let certificate: x509.X509Certificate | undefined;
  if (certFile) {
    certificate = parseCertificate(readBytes(certFile, 'certificate'));
    const named = envelope?.signer.certificateSm3;
    if (named && !named.equals(sm3(Buffer.from(certificate.rawData)))) {
      throw new ZtError('ZT_ERR_SIGNATURE_INVALID', `the envelope names another signer certificate (SM3 ${named.toString('hex')}) than ${certFile}`);
    }
  } else if (envelope?.signer.certificate && (!pubkeyFile || caFiles.length > 0)) {
    certificate = parseCertificate(envelope.signer.certificate);
  }

  let publicKey: KeyObject;
  if (pubkeyFile) {
    publicKey = loadSm2PublicKey(readBytes(pubkeyFile, 'public key'));
    if (certificate && !publicPoint(publicKey).equals(publicPoint(loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData))))) {
      throw new ZtError('ZT_ERR_SIGNATURE_INVALID', `the certificate in the envelope is not for the key in ${pubkeyFile}`);
    }
  } else if (certificate) {
    publicKey = loadSm2PublicKey(new Uint8Array(certificate.publicKey.rawData));
  } else {
    usage(`no signer key: give --cert SIGNER.pem or --pubkey PUB.pem${envelope ? ' (the envelope carries no certificate)' : ''}`);
  }

  if (caFiles.length > 0) {
    if (!certificate) usage("--ca checks the signer's certificate: give --cert SIGNER.pem, or an envelope that carries it");
    const crls = crlFiles.map((f) => parseCrl(readBytes(f, 'CRL')));
    const { chain } = await validateChain({
      certificate,
      intermediates: intermediateFiles.map((f) => readBytes(f, 'intermediate certificate')),
      trustAnchors: caFiles.map((f) => readBytes(f, 'trust anchor')),
      crls,
      // The CRLs given are checked, not one per CA on the path: `zhengtong ca crl` writes the issuing CA's, and the
      // root's is only served over HTTP. The signer's own certificate must be covered, though (below).
      revocation: 'best-effort',
    });
    if (crls.length > 0 && chain[1]) await assertCoveredByCrl(chain[1], crls);
  }
  if (certificate) assertCertificateUsage(certificate, { keyUsage: ['digitalSignature'] });

  if (detected.format === 'der') assertSm2Signature(publicKey, payload, detected.signature);
  else await verifyEnvelope(detected.envelope, payload, { publicKey });

  const who = certificate ? describeSigner(certificate) : `the key in ${pubkeyFile}`;
  const when = envelope ? ` at ${envelope.signingTime.toISOString()}` : '';
  const caveat = caFiles.length > 0 ? '' : certificate ? ' (certificate not checked: no --ca)' : '';
  const how = detected.format === 'der' ? 'DER SM2 signature' : `${detected.format} envelope, user ID ${detected.envelope.userId}`;
  process.stdout.write(`verified: signed by ${who}${when} [${how}]${caveat}\n`);
}
