// Every command of `zhengtong` with its usage, declared once: cli/main.ts answers --help, -h and `help` from here and
// refuses commands that are not here (cli/usage.ts). Kept free of the commands' own modules so that help loads
// nothing else; cli/commands.test.ts keeps the values quoted here (revocation reasons, batch sizes) in step.
import type { CommandGroup, CommandUsage, UsageOption, UsageOptionSet } from './usage.js';

const LICENCE_EXAMPLE_ID = '1.2.156.3005.2.11100000MB0002581X001.11210100001000029N.202603150000012345.001.7';

const CONFIG: UsageOption = ['--config FILE', 'JSON or YAML file of settings (also ZT_CONFIG_FILE); environment variables override it'];
const JSON_OUTPUT: UsageOption = ['--json', 'print the answer as JSON'];

// ---- sign, verify ----

const SIGN: CommandUsage = {
  summary: 'sign a file, or a demand step, with an SM2 key (offline)',
  synopsis: [
    '--key KEY.pem [--passphrase-file F] [--cert CERT.pem] --in FILE [--out FILE] [--format der|json|protobuf]',
    '--step register|approve|refuse|withdraw [--demand ID] --key KEY.pem --cert CERT.pem --in BODY.json',
    '--step import --key KEY.pem --cert CERT.pem --in LIST.csv|LIST.json',
  ],
  description:
    'Signs FILE with the SM2 private key (PKCS#8 or SEC1 PEM, or PKCS#8 DER), user ID 1234567812345678, and writes the signature to --out or standard output. ' +
    'With --step, signs a demand step as its acting department (docs/signed-transitions.md): register, approve, refuse and withdraw print BODY with "signature" added, ready to POST to /v1/catalogue/demands (register) or …/demands/ID/approve|refuse|withdraw; import prints the Zt-Signature header value of a demand-list import.',
  options: [
    ['--key KEY.pem', 'the SM2 private key'],
    ['--passphrase-file F', 'a file holding the key\'s passphrase, if it is encrypted'],
    ['--cert CERT.pem', 'the signer\'s certificate: carried in the envelope (json, protobuf); needed by --step'],
    ['--in FILE', 'what to sign'],
    ['--out FILE', 'where the signature goes (default standard output)'],
    [
      '--format F',
      'der: the bare DER signature (r, s), as `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678 -pubin -inkey PUB.pem -in FILE -sigfile SIG` checks it; json (default): a signed envelope (docs/envelope.md); protobuf: the same envelope as zhengtong.v1.SignedEnvelope',
    ],
    ['--step STEP', 'sign a demand step instead: register, approve, refuse, withdraw or import'],
    ['--demand ID', 'the demand an approve, refuse or withdraw step is for'],
  ],
  examples: [
    'zhengtong sign --key civil.key.pem --cert civil.cert.pem --in licence.json --out licence.sig.json',
    'zhengtong sign --step approve --demand 0192f3c4-7a10-7d2e-9b41-5c8e2f6a1d03 --key civil.key.pem --cert civil.cert.pem --in approve.json',
  ],
};

const VERIFY: CommandUsage = {
  summary: 'check a signature (DER or signed envelope) and, with --ca, the signer\'s certificate (offline)',
  synopsis: ['--in FILE --sig SIG [--ca ROOT.pem ...] [--intermediate ISSUING.pem ...] [--crl CRL.pem ...] [--cert SIGNER.pem | --pubkey PUB.pem]'],
  description:
    'Checks SIG over FILE; SIG may be DER, a JSON envelope or a protobuf envelope (detected). The signer\'s key comes from --cert, from the certificate in the envelope, or from --pubkey. ' +
    'With --ca (a trust anchor) the certificate must chain to it through the --intermediate certificates, be valid now and allow digitalSignature; with --crl it must not be revoked, and one CRL must be a current one of its issuer (`zhengtong ca crl`). Prints one line.',
  options: [
    ['--in FILE', 'what was signed'],
    ['--sig SIG', 'the signature: DER, JSON envelope or protobuf envelope'],
    ['--cert SIGNER.pem', 'the signer\'s certificate (default: the one the envelope carries)'],
    ['--pubkey PUB.pem', 'the signer\'s public key, for a signature without a certificate'],
    ['--ca ROOT.pem', 'a trust anchor the signer\'s certificate must chain to (repeatable)'],
    ['--intermediate ISSUING.pem', 'an intermediate CA certificate of the chain (repeatable)'],
    ['--crl CRL.pem', 'a certificate revocation list to check the chain against (repeatable)'],
  ],
  exitStatus: '0 the signature is valid, 1 it is not (one line on standard error with the error code in brackets).',
  examples: ['zhengtong verify --in licence.json --sig licence.sig.json --ca root-ca.cert.pem --intermediate issuing-ca.cert.pem --crl issuing.crl.pem'],
};

// ---- ca ----

const CA: CommandGroup = {
  summary: 'the platform certificate authority: init, enrol, revoke, status, crl',
  description: 'The platform certificate authority (平台CA) in ZT_CA_DIR (default <ZT_DATA_DIR>/ca): the root and issuing CA that certify the departments\' SM2 keys and sign the platform\'s own.',
  commands: {
    init: {
      summary: 'create the root and issuing CA; the root CA\'s key apart, to be taken offline',
      synopsis: ['[--organisation NAME] [--province P] [--locality L] [--passphrase-file F] [--root-key-out DIR]'],
      description:
        'Creates the root and issuing CA. The root CA\'s key goes to DIR (default ZT_CA_ROOT_KEY_DIR, <ZT_DATA_DIR>/ca-root, mode 0700), apart from what serve reads: take it offline; it is needed only to re-sign the root CRL (zhengtong ca crl --root --root-key FILE). ' +
        'ZT_CA_DIR gets what serve needs: the root certificate and CRL, the issuing CA\'s key and certificate. Keys are PKCS#8 PEM, mode 0600, encrypted with the passphrase if one is given, which the service then needs in ZT_CA_PASSPHRASE. ' +
        'root-ca.cert.pem is the trust anchor to give to verifiers; the gateway also serves it at /v1/ca/root.pem.',
      options: [
        ['--organisation NAME', 'the organisation named in the CA certificates (default 沈阳市大数据管理局)'],
        ['--province P', 'the province (default 辽宁省)'],
        ['--locality L', 'the city (default 沈阳市)'],
        ['--passphrase-file F', 'a file holding the passphrase that encrypts the CA keys (default ZT_CA_PASSPHRASE)'],
        ['--root-key-out DIR', 'where the root CA\'s key is written (default ZT_CA_ROOT_KEY_DIR)'],
        CONFIG,
      ],
      examples: ['zhengtong ca init --passphrase-file ca.pass --root-key-out /media/offline/ca-root', 'zhengtong ca init --organisation 大连市大数据管理局 --locality 大连市'],
    },
    enrol: {
      summary: 'issue a department certificate, for the key of a CSR or (demos) one generated here',
      synopsis: ['--uscc CODE --name NAME (--csr FILE | --generate --key-out FILE) [--out FILE]'],
      description:
        'Issues a department certificate for the SM2 key of a certificate request (the department keeps its private key) or, for demos, for a key generated here and written to --key-out. ' +
        'Registers the department if it is new. Prints the certificate, or writes it to --out.',
      options: [
        ['--uscc CODE', 'the department\'s unified social credit code (统一社会信用代码)'],
        ['--name NAME', 'the department\'s name'],
        ['--csr FILE', 'a PKCS#10 certificate request (PEM) signed with the department\'s SM2 key'],
        ['--generate', 'generate the key pair here instead (demos)'],
        ['--key-out FILE', 'where --generate writes the private key (mode 0600; an existing file is not overwritten)'],
        ['--out FILE', 'write the certificate here instead of standard output'],
        CONFIG,
      ],
      examples: ['zhengtong ca enrol --uscc 11210100001000045C --name 沈阳市民政局 --csr civil.csr.pem --out civil.cert.pem'],
    },
    revoke: {
      summary: 'revoke a certificate',
      synopsis: ['--serial HEX --reason REASON'],
      description: 'Revokes the certificate with this serial number; the CRLs list it from then on.',
      options: [
        ['--serial HEX', 'the certificate\'s serial number, in hexadecimal'],
        ['--reason REASON', 'unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn or aACompromise'],
        CONFIG,
      ],
      examples: ['zhengtong ca revoke --serial 5E1C9A7B03D2F4E6 --reason keyCompromise'],
    },
    status: {
      summary: 'a certificate\'s status: good, revoked (when, why) or expired',
      synopsis: ['--serial HEX'],
      description: 'Prints the certificate with this serial number: subject, department, validity, SM3 fingerprint and status.',
      options: [['--serial HEX', 'the certificate\'s serial number, in hexadecimal'], CONFIG],
      examples: ['zhengtong ca status --serial 5E1C9A7B03D2F4E6'],
    },
    crl: {
      summary: 'write the issuing CA\'s (or the root CA\'s) current CRL; re-sign the root CRL with the offline root key',
      synopsis: ['[--root [--root-key FILE [--days N]]] [--out FILE] [--der]'],
      description:
        'Writes the issuing CA\'s current certificate revocation list or, with --root, the root CA\'s as published in ZT_CA_DIR; PEM by default. `zhengtong verify --crl` takes both for a full offline check. ' +
        'With --root-key, signs a new root CRL with the offline root CA key and publishes it in ZT_CA_DIR, where serve picks it up.',
      options: [
        ['--root', 'the root CA\'s CRL instead of the issuing CA\'s'],
        ['--root-key FILE', 'sign a new root CRL with this root CA key (with --root; --passphrase-file F if it is encrypted)'],
        ['--days N', 'how long the new root CRL is valid, 1 to 3660 days (default 365)'],
        ['--out FILE', 'write it here instead of standard output'],
        ['--der', 'DER instead of PEM'],
        CONFIG,
      ],
      examples: ['zhengtong ca crl --out issuing.crl.pem', 'zhengtong ca crl --root --root-key /media/offline/ca-root/root-ca.key.pem --days 180'],
    },
  },
};

// ---- extract ----

const EXTRACT: CommandGroup = {
  summary: 'load a supplier\'s extract (CSV or JSONL) into the exchange\'s tables',
  description: 'Extracts (前置库): a supplier\'s data loaded into the exchange\'s own tables, from which the exchange then answers for that resource.',
  commands: {
    load: {
      summary: 'load a CSV or JSONL file as the current data of a data resource',
      synopsis: ['--resource CODE --subject-item ITEM[,ITEM] [--subject-kind person|organisation] FILE'],
      description:
        'Loads FILE (.csv with a header of item codes, or .jsonl with one object per line) as the current data of the resource, from its provider in the catalogue. ' +
        'Rows are upserted by subject; the whole file is refused, with each bad row\'s line, if any row is invalid. With the embedded database, stop serve first; on PostgreSQL it runs beside the gateways.',
      options: [
        ['--resource CODE', 'the data resource\'s code in the catalogue'],
        ['--subject-item ITEM', 'the item holding the subject\'s identifier; two for a marriage record (maleIdNumber,femaleIdNumber)'],
        ['--subject-kind KIND', 'person (default) or organisation'],
        CONFIG,
      ],
      examples: [
        'zhengtong extract load --resource 210100-GA-0001 --subject-item idNumber residents.csv',
        'zhengtong extract load --resource 210100-MZ-0001 --subject-item maleIdNumber,femaleIdNumber marriages.jsonl',
      ],
    },
  },
};

// ---- licence ----

const LICENCE_CONNECTION: UsageOptionSet = {
  title: 'Connection',
  options: [
    ['--server URL', 'the gateway\'s HTTP address (default http://127.0.0.1:ZT_HTTP_PORT, port 8080)'],
    ['--grpc HOST:PORT', 'talk gRPC to this address instead of HTTP'],
    [
      '--ca ROOT.pem',
      'the platform CA that signs licences, answers and status lists (default: root-ca.cert.pem and issuing-ca.cert.pem in ZT_CA_DIR, <ZT_DATA_DIR>/ca)',
    ],
    ['--intermediate ISSUING.pem', 'the issuing CA\'s certificate; without it, it is fetched from the server and checked against ROOT.pem'],
    ['--platform-uscc CODE', 'the USCC the platform\'s certificate must name (default ZT_PLATFORM_USCC if set)'],
    ['--verify-document', 'also check the platform\'s signature on each licence document shown'],
    JSON_OUTPUT,
    ['--config FILE', 'settings file (for the defaults above)'],
  ],
};

const DEPARTMENT_KEY: UsageOptionSet = {
  title: 'The department\'s key (each step signed as that department)',
  options: [
    ['--key KEY.pem', 'the department\'s SM2 private key (zhengtong ca enrol; the demo\'s are in <ZT_DATA_DIR>/demo-keys)'],
    ['--cert CERT.pem', 'its certificate, which names the department'],
    ['--passphrase-file F', 'a file holding the key\'s passphrase, if it is encrypted'],
  ],
};

const LICENCE_EXIT = '0 done, 1 refused by the registry (one line on standard error with the code in brackets) or the answer did not verify, 2 a usage error.';

/** A command of `zhengtong licence` that talks to a running gateway. */
function gatewayCommand(usage: Omit<CommandUsage, 'sharedOptions' | 'exitStatus'> & { signed?: boolean; exitStatus?: string }): CommandUsage {
  const { signed, ...rest } = usage;
  return { exitStatus: LICENCE_EXIT, ...rest, sharedOptions: signed ? [DEPARTMENT_KEY, LICENCE_CONNECTION] : [LICENCE_CONNECTION] };
}

const LICENCE: CommandGroup = {
  summary: 'the e-licence registry: issue, get, find, verify, revoke, …; verify-offline; convert',
  description:
    'The e-licence registry (电子证照库) of a running gateway: look licences up, verify them (anonymously, or as a department for a case), and, with a department\'s key, issue them and take the lifecycle steps. ' +
    'verify-offline needs no server; convert works on the database, as serve is configured.',
  commands: {
    types: gatewayCommand({
      summary: 'the licence types (证照类型) and their fields',
      synopsis: ['[options]'],
      description: 'Lists the licence types: code, name, holder kind, issuing departments, validity and fields (? marks an optional field).',
      examples: ['zhengtong licence types --server http://127.0.0.1:8080'],
    }),
    get: gatewayCommand({
      signed: true,
      summary: 'a licence version by its identifier (1.2.156.3005.2.…), read for a case',
      synopsis: ['ID --service-item ITEM --case-number CASE --key KEY --cert CERT [options]'],
      description:
        'Prints a licence version: number, holder, issuer, validity, fields, status entry and who signed it, checked against the platform CA. ' +
        'The read is signed by the department (an issuer of the type, or the intake department of the holder\'s case) and recorded in the access log.',
      options: [
        ['--service-item ITEM', '事项编码: the service item the read is for (required: a licence read is a read of personal data)'],
        ['--case-number CASE', '办件编号: the case the read is for (required)'],
        ['--operator WHO', '经办人, in the department\'s own system'],
      ],
      examples: [`zhengtong licence get ${LICENCE_EXAMPLE_ID} --service-item QYKB-210100-0001 --case-number YS-2026-000900 --key ys.key.pem --cert ys.cert.pem`],
    }),
    find: gatewayCommand({
      summary: 'a holder\'s licences, or the versions of a licence number',
      signed: true,
      synopsis: ['--holder CODE [--holder-type 111|001] [--type TYPE] --service-item ITEM --case-number CASE [options]', '--type TYPE --number N --service-item ITEM --case-number CASE [options]'],
      description: 'Finds a holder\'s licences (of one type with --type), or the versions of a licence number (newest first), for a case; only those the department may see, and the read is recorded.',
      options: [
        ['--service-item ITEM', '事项编码: the service item the read is for (required)'],
        ['--case-number CASE', '办件编号: the case the read is for (required)'],
        ['--operator WHO', '经办人, in the department\'s own system'],
        ['--holder CODE', 'the holder\'s resident ID number or USCC'],
        ['--holder-type T', '111 (resident ID number) or 001 (USCC); told from the code if omitted'],
        ['--type TYPE', 'the licence type\'s code'],
        ['--number N', 'the licence number (证照编号), with --type'],
      ],
      examples: ['zhengtong licence find --holder 210103198503120312 --service-item HYDJ-210100-0011 --case-number MZ-2026-000123 --key mz.key.pem --cert mz.cert.pem'],
    }),
    history: gatewayCommand({
      summary: 'every step of a licence version, with who signed it',
      signed: true,
      synopsis: ['ID --service-item ITEM --case-number CASE [options]'],
      description: 'Lists the steps of a licence version, each with its time, the status it moved from and to, who took it, the reason and whether it was signed; read for a case and recorded.',
      options: [
        ['--service-item ITEM', '事项编码: the service item the read is for (required: a licence read is a read of personal data)'],
        ['--case-number CASE', '办件编号: the case the read is for (required)'],
        ['--operator WHO', '经办人, in the department\'s own system'],
      ],
      examples: [`zhengtong licence history ${LICENCE_EXAMPLE_ID} --service-item QYKB-210100-0001 --case-number YS-2026-000900 --key ys.key.pem --cert ys.cert.pem`],
    }),
    compact: gatewayCommand({
      summary: 'the licence as the text of its QR code (ZTL1:…)',
      signed: true,
      synopsis: ['ID --service-item ITEM --case-number CASE [options]'],
      description: 'Prints the compact form of a licence: the signed document as the text of a QR code, which `zhengtong licence verify --compact` and verify-offline check; read for a case and recorded.',
      options: [
        ['--service-item ITEM', '事项编码: the service item the read is for (required: a licence read is a read of personal data)'],
        ['--case-number CASE', '办件编号: the case the read is for (required)'],
        ['--operator WHO', '经办人, in the department\'s own system'],
      ],
      examples: [`zhengtong licence compact ${LICENCE_EXAMPLE_ID} --service-item QYKB-210100-0001 --case-number YS-2026-000900 --key ys.key.pem --cert ys.cert.pem > licence.txt`],
    }),
    verify: gatewayCommand({
      summary: 'is the licence genuine and valid now? anonymously, or as a department for a case',
      synopsis: ['ID | --compact TEXT | --document DOC.json --envelope ENV.json [--service-item ITEM --case-number CASE [--operator WHO]] [options]'],
      description:
        'Asks the registry whether a licence is genuine and valid now, and checks its signed answer. Anonymous (the holder masked) unless a service item and case are given: then it is a department\'s check, signed with --key and recorded in the access log.',
      options: [
        ['--compact TEXT', 'the licence as the text of its QR code (ZTL1:…)'],
        ['--document DOC.json', 'the licence document, with --envelope'],
        ['--envelope ENV.json', 'the registry\'s signed envelope of the document'],
        ['--service-item ITEM', 'the service item (事项) the department checks the licence for'],
        ['--case-number CASE', 'the case (办件) it checks it for'],
        ['--operator WHO', 'who at the department checks it'],
        ['--key KEY.pem --cert CERT.pem', 'the department\'s key and certificate, for a department\'s check (--passphrase-file F if encrypted)'],
      ],
      exitStatus: '0 valid, 1 not valid (suspended, revoked, superseded, expired …) or refused, 2 a usage error.',
      examples: [`zhengtong licence verify ${LICENCE_EXAMPLE_ID}`, 'zhengtong licence verify --compact "$(cat licence.txt)" --service-item QYKB-210100-0001 --case-number YS-2026-000900 --key ys.key.pem --cert ys.cert.pem'],
    }),
    'status-list': gatewayCommand({
      summary: 'an issuer\'s signed status list, checked; --index reads one entry',
      synopsis: ['ISSUER [LIST] [--index N] [options]'],
      description: 'Fetches the issuer\'s signed status list (default list 1), checks its signature against the platform CA and prints it; with --index, the status of one entry.',
      options: [['--index N', 'the entry to read (a licence\'s status.index)']],
      examples: ['zhengtong licence status-list 11210100001000029N --index 17'],
    }),
    issue: gatewayCommand({
      summary: 'issue a licence, signed as the key\'s department',
      synopsis: ['--file LICENCE.json --key KEY.pem --cert CERT.pem [options]'],
      description:
        'Issues a licence from a JSON file {typeCode, holder: {name, code}, fields, licenceNumber?, issueDate?, validFrom?, validTo?, areaCode?, sealName?}; the issuer is the key\'s department, which must be one of the type\'s issuers.',
      options: [['--file LICENCE.json', 'the licence to issue']],
      signed: true,
      examples: ['zhengtong licence issue --file licence.json --key market.key.pem --cert market.cert.pem'],
    }),
    revoke: gatewayCommand({
      summary: 'revoke (注销) a licence',
      synopsis: ['ID --reason R --key KEY.pem --cert CERT.pem [options]'],
      description: 'Revokes a licence version for good; its status list entry says so from then on.',
      options: [['--reason R', 'why (recorded and signed)']],
      signed: true,
      examples: [`zhengtong licence revoke ${LICENCE_EXAMPLE_ID} --reason 营业执照被依法吊销 --key market.key.pem --cert market.cert.pem`],
    }),
    suspend: gatewayCommand({
      summary: 'suspend a licence',
      synopsis: ['ID --reason R --key KEY.pem --cert CERT.pem [options]'],
      description: 'Suspends a licence version until it is resumed.',
      options: [['--reason R', 'why (recorded and signed)']],
      signed: true,
      examples: [`zhengtong licence suspend ${LICENCE_EXAMPLE_ID} --reason 责令停业整顿 --key market.key.pem --cert market.cert.pem`],
    }),
    resume: gatewayCommand({
      summary: 'resume a suspended licence',
      synopsis: ['ID [--reason R] --key KEY.pem --cert CERT.pem [options]'],
      description: 'Resumes a suspended licence version.',
      options: [['--reason R', 'why (recorded and signed)']],
      signed: true,
      examples: [`zhengtong licence resume ${LICENCE_EXAMPLE_ID} --reason 整顿完毕 --key market.key.pem --cert market.cert.pem`],
    }),
    change: gatewayCommand({
      summary: 'a new version with the changes supersedes the licence',
      synopsis: ['ID --reason R [--field CODE=VALUE ...] [--holder-name NAME] [--valid-to YYYY-MM-DD] --key KEY.pem --cert CERT.pem [options]'],
      description: 'Issues a new version of the licence with the changes given, which supersedes ID.',
      options: [
        ['--reason R', 'why (recorded and signed)'],
        ['--field CODE=VALUE', 'a field\'s new value (repeatable)'],
        ['--holder-name NAME', 'the holder\'s new name'],
        ['--valid-to YYYY-MM-DD', 'the new end of validity'],
      ],
      signed: true,
      examples: [`zhengtong licence change ${LICENCE_EXAMPLE_ID} --reason 住所变更 --field address=沈阳市和平区南京北街1号 --key market.key.pem --cert market.cert.pem`],
    }),
    renew: gatewayCommand({
      summary: 'a new version with a new end date supersedes the licence',
      synopsis: ['ID --reason R --valid-to YYYY-MM-DD --key KEY.pem --cert CERT.pem [options]'],
      description: 'Issues a new version of the licence valid until --valid-to, which supersedes ID.',
      options: [
        ['--reason R', 'why (recorded and signed)'],
        ['--valid-to YYYY-MM-DD', 'the new end of validity'],
      ],
      signed: true,
      examples: [`zhengtong licence renew ${LICENCE_EXAMPLE_ID} --reason 有效期届满延续 --valid-to 2031-12-31 --key market.key.pem --cert market.cert.pem`],
    }),
    'verify-offline': {
      summary: 'check a presented licence with the CA and a status list, without a server',
      synopsis: [
        '(--payload TEXT | --payload-file FILE | --document DOC.json --envelope ENV.json) --ca ROOT.pem [--intermediate ISSUING.pem] [--status-list LIST.json] [--signer-cert CERT.pem] [--at TIME] [--require-fresh-list] [--json]',
      ],
      description:
        'Checks, without contacting the registry, that an e-licence (电子证照) is genuine and valid: its signature against the platform CA and, with the issuer\'s status list downloaded beforehand, that it is not revoked or suspended (docs/licence-offline.md).',
      options: [
        ['--payload TEXT', 'the text of its QR code (ZTL1:…)'],
        ['--payload-file FILE', 'the same, from a file'],
        ['--document DOC.json', 'the licence document, with --envelope'],
        ['--envelope ENV.json', 'the registry\'s signed envelope of the document'],
        ['--ca ROOT.pem', 'the platform root CA certificate (zhengtong ca init writes it)'],
        ['--intermediate ISSUING.pem', 'the issuing CA certificate'],
        [
          '--status-list LIST.json',
          'the issuer\'s signed status list, downloaded from the URL in the licence\'s status.list; without it revocation is unknown. Its certificate is also the signer\'s, unless the platform\'s certificate changed: then give --signer-cert',
        ],
        ['--signer-cert CERT.pem', 'the platform certificate that signed the licence'],
        ['--at TIME', 'check as of this RFC 3339 time instead of now'],
        ['--require-fresh-list', 'refuse a status list past its validUntil (by default: used, with a warning)'],
        ['--json', 'print the result as JSON'],
      ],
      exitStatus:
        '0 genuine and valid; 1 genuine but not valid (revoked, suspended, superseded, expired, not yet valid, or status unknown for want of a status list); 2 not shown genuine, or a usage error (one line on standard error, with the error code in brackets).',
      examples: ['zhengtong licence verify-offline --payload-file licence.txt --ca root-ca.cert.pem --intermediate issuing-ca.cert.pem --status-list list.json'],
    },
    convert: {
      summary: 'convert a stock of existing licences (存量证照), CSV or JSONL, into signed e-licences',
      synopsis: ['--type TYPECODE --file FILE.csv|FILE.jsonl [--issuer USCC] [--rejects FILE] [--batch N] [--config FILE]'],
      description:
        'Converts the existing licences (存量证照) of one licence type into e-licences signed with the platform key (docs/licence-conversion.md). ' +
        'A licence number the type already has is skipped, so running a file twice adds nothing; an interrupted run (Ctrl-C stops after the batch in hand) resumes when the same command is run again. ' +
        'Needs the platform CA (ZT_CA_DIR). With the embedded database, stop serve first; on PostgreSQL it runs beside the gateways, which hear of the new licences through the outbox.',
      options: [
        ['--type TYPECODE', 'the licence type\'s code (the defining authority\'s USCC + 3 digits); the type must be defined'],
        [
          '--file FILE',
          'CSV with a header row, or JSON Lines (one object per line): licenceNumber, holderName, holderCode, issueDate, and optionally validFrom, validTo, issuerCode, areaCode, identifier, and the type\'s fields by their codes (in JSON Lines also nested under "fields")',
        ],
        ['--issuer USCC', 'the issuing department of rows without an issuerCode (one of the type\'s issuers; not needed when the type has only one)'],
        ['--rejects FILE', 'where rejected rows are written, one JSON object per line (default FILE.rejects.jsonl)'],
        ['--batch N', 'rows per batch, 1 to 2000 (default 500)'],
        CONFIG,
      ],
      exitStatus:
        '0 when the file is converted (rejected rows included: see the rejects file), 1 on an error (one line on standard error, with the error code in brackets), 130 when interrupted.',
      examples: ['zhengtong licence convert --type 11100000MB0002581X001 --file business-licences.csv --issuer 11210100001000029N'],
    },
  },
};

// ---- audit ----

const AUDIT_LOG_OPTIONS: readonly UsageOption[] = [
  ['--ca-dir DIR', 'the platform CA (root-ca.cert.pem, issuing-ca.cert.pem); default ZT_CA_DIR'],
  JSON_OUTPUT,
  CONFIG,
];
const AUDIT_LOG_EXIT = '0 clean, 1 problems found or refused, 2 a usage error.';
const AUDIT_LOG_NOTE = 'It reads the configured database directly: stop a gateway using the embedded database first; PostgreSQL may be shared.';

const AUDIT_SIGNED: UsageOptionSet = {
  title: 'Connection (every call is signed)',
  options: [
    ['--server URL', 'the gateway\'s HTTP address (default http://127.0.0.1:ZT_HTTP_PORT)'],
    ['--grpc HOST:PORT', 'talk gRPC to this address instead'],
    [
      '--key KEY.pem --cert CERT.pem',
      'the signing department\'s SM2 key and certificate (the demo\'s: <ZT_DATA_DIR>/demo-keys; the demo supervisor is 11210100001000096L, the demo portal 11210100001000109A)',
    ],
    ['--passphrase-file F', 'a file holding the key\'s passphrase, if it is encrypted'],
    JSON_OUTPUT,
    ['--config FILE', 'settings file (for the default server)'],
  ],
};

const AUDIT_FILTERS: UsageOptionSet = {
  title: 'Filters',
  options: [
    ['--department USCC', 'the requesting department'],
    ['--operator NAME', 'the operator at the department'],
    ['--subject CODE', 'the person (resident ID number) or enterprise (USCC) whose data was read'],
    ['--resource CODE', 'the data resource'],
    ['--decision D', 'permit, deny or error'],
    ['--case-number CASE', 'the case (办件)'],
    ['--service-item ITEM', 'the service item (事项)'],
    ['--record ID', 'one record'],
    [
      '--from T, --to T',
      'ISO 8601 time with offset or a date (China time); [from, to) is required unless --subject, --case-number or --record is given, and at most ZT_AUDIT_MAX_RANGE_DAYS long',
    ],
  ],
};

const AUDIT_SEARCH_EXIT = '0 done, 1 refused (one line on standard error with the code in brackets), 2 a usage error.';

function searchCommand(usage: Omit<CommandUsage, 'exitStatus' | 'sharedOptions'> & { filters?: boolean }): CommandUsage {
  const { filters, ...rest } = usage;
  return { ...rest, exitStatus: AUDIT_SEARCH_EXIT, sharedOptions: filters ? [AUDIT_FILTERS, AUDIT_SIGNED] : [AUDIT_SIGNED] };
}

const AUDIT_SUPERVISOR: UsageOptionSet = {
  title: 'Connection (a signed request from a supervisor, ZT_AUDIT_SUPERVISORS)',
  options: [
    ['--server URL, --url URL', 'the gateway\'s HTTP address (default http://127.0.0.1:ZT_HTTP_PORT)'],
    ['--grpc HOST:PORT', 'talk gRPC to this address instead of HTTP'],
    ['--key KEY.pem --cert CERT.pem', 'the supervisor department\'s SM2 key and certificate'],
    ['--passphrase-file F', 'a file holding the key\'s passphrase, if it is encrypted'],
    ['--json', 'print the full answer as JSON'],
    ['--config FILE', 'settings file (for the default server)'],
  ],
};
const AUDIT_ANALYTICS_EXIT = '0 done, 1 refused by the gateway (one line on standard error with the code in brackets), 2 a usage error.';
const RANGE: UsageOption = ['--from T, --to T', 'ISO 8601 with offset (2026-11-26T08:00:00+08:00) or a date (China time); [from, to)'];

const ARCHIVE_EXIT = '0 done, 1 refused or failed (one line on standard error, the error code in brackets), 2 a usage error.';

const AUDIT_ARCHIVE: CommandGroup = {
  summary: 'the electronic archive (电子档案): seal old segments, verify, restore, list',
  description:
    'The electronic archive (电子档案) of the access log: old segments of the tamper-evident log sealed into signed files that anyone holding the platform CA\'s certificates can verify offline (docs/audit-archive.md).',
  commands: {
    seal: {
      summary: 'seal old segments of the log into signed archive files',
      synopsis: ['[--remove] [--include-restored] [--dry-run] [--max-segments N] [--json]'],
      description:
        'Seals every segment of 2^ZT_AUDIT_ARCHIVE_SEGMENT_BITS records whose records are all older than ZT_AUDIT_RETENTION_DAYS and that a signed checkpoint covers, into ZT_AUDIT_ARCHIVE_DIR, signed with the platform key; progress on standard error.',
      options: [
        ['--remove', 'then delete the sealed records from the live log (also ZT_AUDIT_ARCHIVE_REMOVE=true)'],
        ['--include-restored', 'remove restored segments again too (with --remove)'],
        ['--dry-run', 'only say what would be sealed'],
        ['--max-segments N', 'seal at most N segments'],
        JSON_OUTPUT,
      ],
      exitStatus: ARCHIVE_EXIT,
      examples: ['zhengtong audit archive seal --dry-run', 'zhengtong audit archive seal --remove --max-segments 10'],
    },
    verify: {
      summary: 'check archive files offline against the platform CA',
      synopsis: ['FILE... [--ca ROOT.pem --intermediate ISSUING.pem | --ca-dir DIR] [--platform-uscc USCC] [--json]'],
      description:
        'Checks archive files offline: every record against its leaf, the segment root, its audit path to the signed checkpoint, and the platform\'s signatures. Names the first altered record line. No database is needed.',
      options: [
        ['--ca ROOT.pem', 'the platform root CA certificate (repeatable)'],
        ['--intermediate ISSUING.pem', 'the issuing CA certificate (repeatable), with --ca'],
        ['--ca-dir DIR', 'a CA directory holding both (default ZT_CA_DIR)'],
        ['--platform-uscc USCC', 'the platform\'s USCC (default ZT_PLATFORM_USCC)'],
        JSON_OUTPUT,
      ],
      exitStatus: '0 when every file verifies, 1 otherwise, 2 a usage error.',
      examples: ['zhengtong audit archive verify archive/*.jsonl.gz --ca root-ca.cert.pem --intermediate issuing-ca.cert.pem'],
    },
    restore: {
      summary: 'put a sealed segment\'s records back into the live log',
      synopsis: ['FILE [--json]'],
      description:
        'Verifies FILE against the CA in ZT_CA_DIR, then puts its records back into the live log (same seq, id and content, each matching its leaf); restoring again changes nothing.',
      options: [JSON_OUTPUT],
      exitStatus: ARCHIVE_EXIT,
      examples: ['zhengtong audit archive restore data/archive/access-log-000000000000-000000065536.jsonl.gz'],
    },
    list: {
      summary: 'the sealed segments and their state',
      synopsis: ['[--json]'],
      description: 'Lists the sealed segments: leaf range, times, checkpoint, file, and whether their records are in the live log; and how many more can be sealed now.',
      options: [JSON_OUTPUT],
      exitStatus: ARCHIVE_EXIT,
      examples: ['zhengtong audit archive list'],
    },
  },
};

const AUDIT: CommandGroup = {
  summary: 'the access log: verify it, search it, analyse it, archive it',
  description: 'Supervision of the access log (访问记录): who read whose data, for which case, under which rule.',
  commands: {
    verify: {
      summary: 'check the tamper-evident log: checkpoints, tree and every record',
      synopsis: ['[--from-seq N] [--to-seq M] [--json] [--ca-dir DIR]'],
      description:
        'Checks every checkpoint\'s signature against the platform CA, consistency between consecutive checkpoints, every stored node and checkpoint root from the leaves, and every record (or those with seq in [N, M]) against its leaf; names each record edited, deleted, inserted or reordered. Progress on standard error. ' +
        AUDIT_LOG_NOTE,
      options: [['--from-seq N', 'check the records from this seq'], ['--to-seq M', 'up to this seq'], ...AUDIT_LOG_OPTIONS],
      exitStatus: AUDIT_LOG_EXIT,
      examples: ['zhengtong audit verify', 'zhengtong audit verify --from-seq 100000 --to-seq 200000 --json'],
    },
    checkpoint: {
      summary: 'append pending records to the log and sign a checkpoint now',
      synopsis: ['[--json]'],
      description: `Appends the records not yet in the log and signs a checkpoint now with the platform key (ZT_PLATFORM_KEY_DIR), as the gateways do. ${AUDIT_LOG_NOTE}`,
      options: [JSON_OUTPUT, CONFIG],
      exitStatus: AUDIT_LOG_EXIT,
      examples: ['zhengtong audit checkpoint'],
    },
    checkpoints: {
      summary: 'the latest signed checkpoints, newest first',
      synopsis: ['[--limit N] [--json]'],
      description: `Lists the latest checkpoints: tree size, root hash, signing time and platform. ${AUDIT_LOG_NOTE}`,
      options: [['--limit N', 'how many, 1 to 1000 (default 20)'], JSON_OUTPUT, CONFIG],
      exitStatus: AUDIT_LOG_EXIT,
      examples: ['zhengtong audit checkpoints --limit 5'],
    },
    proof: {
      summary: 'the inclusion proof of one record against a checkpoint, checked here',
      synopsis: ['--record ID [--tree-size N] [--json] [--ca-dir DIR]'],
      description: `Prints the audit path of a record to a signed checkpoint (the latest, or the one of --tree-size) and checks it here: the checkpoint's signature, the leaf from the record as stored, the path to the signed root. ${AUDIT_LOG_NOTE}`,
      options: [['--record ID', 'the access record (its UUID)'], ['--tree-size N', 'the checkpoint to prove against (default the latest)'], ...AUDIT_LOG_OPTIONS],
      exitStatus: '0 the record is in the signed log, 1 it is not or was edited, 2 a usage error.',
      examples: ['zhengtong audit proof --record 3f1c2a9e-5b7d-4e21-9c84-0d6b1a7e2f55'],
    },
    search: searchCommand({
      summary: 'access records matching filters, newest first',
      synopsis: ['[filters] [--limit N] [--cursor C] [--all] [options]'],
      description: 'Searches the access log (行权回溯) of a running gateway: the matching records, newest first, a page at a time (--all follows the cursor to the end).',
      options: [
        ['--limit N', 'records per page, 1 to 500'],
        ['--cursor C', 'the next page, as the previous one named it'],
        ['--all', 'every page'],
      ],
      filters: true,
      examples: ['zhengtong audit search --department 112101000010000537 --from 2026-11-01 --to 2026-11-08 --key supervisor.key.pem --cert supervisor.cert.pem'],
    }),
    export: searchCommand({
      summary: 'every matching record, streamed to a file as CSV or JSON Lines',
      synopsis: ['[filters] [--format csv|jsonl] [--out FILE] [options]'],
      description: 'Exports every matching access record (at most ZT_AUDIT_EXPORT_MAX_ROWS), streamed to FILE or standard output.',
      options: [
        ['--format F', 'csv (default) or jsonl'],
        ['--out FILE', 'where it goes (default standard output)'],
      ],
      filters: true,
      examples: ['zhengtong audit export --from 2026-11-01 --to 2026-12-01 --format jsonl --out november.jsonl --key supervisor.key.pem --cert supervisor.cert.pem'],
    }),
    trace: searchCommand({
      summary: 'one record and what explains it: department, rules and their legal basis, the grant',
      synopsis: ['ID [options]'],
      description: 'Traces one access record: the department and operator, the subject and resource, the purpose, the policy decision with its rules and their legal basis, the grant it was made under, and any covert-case flag.',
      examples: ['zhengtong audit trace 3f1c2a9e-5b7d-4e21-9c84-0d6b1a7e2f55 --key supervisor.key.pem --cert supervisor.cert.pem'],
    }),
    subject: searchCommand({
      summary: 'who read this person\'s or enterprise\'s data, and why',
      synopsis: ['CODE [--from T] [--to T] [--limit N] [--cursor C] [options]'],
      description:
        'The subject\'s view, as a portal shows it to a citizen or enterprise: who read the data of this resident ID number or USCC, when, for which service item and case. Signed with a portal\'s key (ZT_AUDIT_PORTALS), covert cases stay hidden until their release date; with a supervisor\'s, they show, marked covert.',
      options: [
        RANGE,
        ['--limit N', 'accesses per page, 1 to 500'],
        ['--cursor C', 'the next page, as the previous one named it'],
      ],
      examples: ['zhengtong audit subject 210103198503120312 --key portal.key.pem --cert portal.cert.pem'],
    }),
    covert: {
      summary: 'covert-case flags: hidden from the subject\'s view until a release date',
      description: 'Covert cases (秘密办件): a department\'s case hidden from the subject\'s view until its release date (China time).',
      commands: {
        flag: searchCommand({
          summary: 'flag a case as covert until a release date',
          synopsis: ['--case-number CASE --release-on YYYY-MM-DD --reason TEXT [--department USCC] [options]'],
          description: 'Hides a case\'s accesses from the subject\'s view until the release date. A department flags its own cases; a supervisor may flag any department\'s (--department).',
          options: [
            ['--case-number CASE', 'the case (办件)'],
            ['--release-on YYYY-MM-DD', 'the day it shows again (China time)'],
            ['--reason TEXT', 'why (recorded)'],
            ['--department USCC', 'the department whose case it is (default the signer\'s)'],
          ],
          examples: ['zhengtong audit covert flag --case-number GA-2026-001234 --release-on 2027-06-30 --reason 侦查需要 --key police.key.pem --cert police.cert.pem'],
        }),
        lift: searchCommand({
          summary: 'lift a covert flag before its release date (supervisors)',
          synopsis: ['ID [--reason TEXT] [options]'],
          description: 'Lifts a covert flag: the case\'s accesses show in the subject\'s view at once. Only a supervisor (ZT_AUDIT_SUPERVISORS) lifts one; the lifted flag is kept with who lifted it and why.',
          options: [['--reason TEXT', 'why (recorded)']],
          examples: ['zhengtong audit covert lift 8d0e4b6a-2c1f-4a7e-b3d9-6f5a1c2e7b40 --reason 案件办结 --key supervisor.key.pem --cert supervisor.cert.pem'],
        }),
        list: searchCommand({
          summary: 'the covert flags in force (with --all, lifted ones too)',
          synopsis: ['[--department USCC] [--all] [options]'],
          description: 'Lists the covert flags: case, department, release date, reason, and when and by whom a flag was lifted.',
          options: [
            ['--department USCC', 'one department\'s flags'],
            ['--all', 'lifted flags too'],
          ],
          examples: ['zhengtong audit covert list --key supervisor.key.pem --cert supervisor.cert.pem'],
        }),
      },
    },
    analyse: {
      summary: 'per department or resource: volumes, refusals, latency, fulfilment; demand reply times',
      synopsis: ['[--from T] [--to T] [--by department|resource] [options]'],
      description:
        'Analytics of the access log (效能分析, docs/audit-analytics.md) per department (or resource): requests, permitted/denied/error, refusal rate, latency p50/p95/p99, fulfilment; and per supplier department the demand replies: reply times, late, open, overdue. Default: the last 7 days.',
      options: [RANGE, ['--by D', 'department (default) or resource']],
      sharedOptions: [AUDIT_SUPERVISOR],
      exitStatus: AUDIT_ANALYTICS_EXIT,
      examples: ['zhengtong audit analyse --from 2026-11-01 --to 2026-12-01 --by resource --key supervisor.key.pem --cert supervisor.cert.pem'],
    },
    anomalies: {
      summary: 'the anomaly flags, each with its reason',
      synopsis: ['[--from T] [--to T] [options]'],
      description: 'The anomaly flags of the access log (volume spikes, reads outside working hours, missing or mismatched case numbers, an operator reading many subjects), each with its reason and samples. Default: the last 24 hours.',
      options: [RANGE],
      sharedOptions: [AUDIT_SUPERVISOR],
      exitStatus: AUDIT_ANALYTICS_EXIT,
      examples: ['zhengtong audit anomalies --from 2026-11-25 --key supervisor.key.pem --cert supervisor.cert.pem'],
    },
    consume: {
      summary: 'run the analytics consumer until SIGINT or SIGTERM',
      synopsis: ['[--config FILE]'],
      description:
        'Runs the analytics consumer (consumer group zhengtong.audit-analytics) on this configuration\'s database and event bus until SIGINT or SIGTERM, for gateways run with ZT_AUDIT_ANALYTICS=off. Without Kafka (KAFKA_BROKERS) it hears nothing from the gateways.',
      options: [CONFIG],
      exitStatus: '0 stopped, 1 failed.',
      examples: ['KAFKA_BROKERS=kafka:9092 DATABASE_URL=postgres://zhengtong@db/zhengtong zhengtong audit consume'],
    },
    archive: AUDIT_ARCHIVE,
  },
};

/** The whole command line: what `zhengtong help` prints, and what the dispatcher accepts. */
// ---- department, role ----

const ADMIN_CONNECTION: UsageOptionSet = {
  title: 'Connection and key',
  options: [
    ['--server URL', 'the gateway\'s HTTP address (default http://127.0.0.1:8080)'],
    ['--key KEY.pem', 'the signing department\'s SM2 key (the platform administrator\'s for changes)'],
    ['--cert CERT.pem', 'its platform-CA certificate'],
    ['--passphrase-file F', 'a file holding the key\'s passphrase, if it is encrypted'],
    JSON_OUTPUT,
  ],
};

const DEPARTMENT: CommandGroup = {
  summary: 'departments of the city government: register (the administrator\'s right)',
  description: 'Registers departments (部门) through a running gateway, signed with the platform administrator\'s key (docs/access-control.md). Listing them is public: GET /v1/departments.',
  commands: {
    register: {
      summary: 'register a department, signed by the platform administrator',
      synopsis: ['--uscc CODE --name NAME [--short-name S] [--area-code CODE] --key KEY.pem --cert CERT.pem [--server URL]'],
      description: 'Registers a department with its unified social credit code (check character enforced) and name; publishes department.registered. Refused unless the signing department holds the administrator role.',
      options: [
        ['--uscc CODE', 'the department\'s unified social credit code'],
        ['--name NAME', 'its name'],
        ['--short-name S', 'a short name'],
        ['--area-code CODE', 'its area code (default from the code)'],
      ],
      sharedOptions: [ADMIN_CONNECTION],
      exitStatus: '0 registered, 1 refused by the gateway (the error code in brackets), 2 a usage error.',
      examples: ['zhengtong department register --uscc 11210100900000007E --name 沈阳市测试局 --key data/ca/exchange-signer.key.pem --cert data/ca/exchange-signer.cert.pem'],
    },
  },
};

const ROLE: CommandGroup = {
  summary: 'roles in the registry: grant, withdraw, list, history',
  description:
    'Roles (administrator, supervisor, portal) kept in the registry: the platform administrator grants and withdraws them with signed requests, kept with the role\'s history so anyone can check them again. ' +
    'The first administrator is the platform operator (ZT_PLATFORM_USCC), bootstrapped once; ZT_AUDIT_SUPERVISORS and ZT_AUDIT_PORTALS only bootstrap their roles once (deprecated).',
  commands: {
    grant: {
      summary: 'grant a role to a department (administrator)',
      synopsis: ['--role administrator|supervisor|portal --department USCC [--reason TEXT] --key KEY.pem --cert CERT.pem'],
      description: 'Grants the role; every gateway instance applies it within a second. The signed request is kept as the grant\'s evidence.',
      options: [['--role ROLE', 'administrator, supervisor or portal'], ['--department USCC', 'the department'], ['--reason TEXT', 'why (kept with the grant)']],
      sharedOptions: [ADMIN_CONNECTION],
      examples: ['zhengtong role grant --role supervisor --department 11210100001000096L --reason 市政务服务和数据管理局监督 --key admin.key.pem --cert admin.cert.pem'],
    },
    withdraw: {
      summary: 'withdraw a role from a department (administrator)',
      synopsis: ['--role administrator|supervisor|portal --department USCC [--reason TEXT] --key KEY.pem --cert CERT.pem'],
      description: 'Withdraws the role; the last administrator cannot be withdrawn.',
      options: [['--role ROLE', 'administrator, supervisor or portal'], ['--department USCC', 'the department'], ['--reason TEXT', 'why (kept with the withdrawal)']],
      sharedOptions: [ADMIN_CONNECTION],
      examples: ['zhengtong role withdraw --role portal --department 11210100001000109A --key admin.key.pem --cert admin.cert.pem'],
    },
    list: {
      summary: 'who holds which role, since when, granted by whom',
      synopsis: ['[--role ROLE] --key KEY.pem --cert CERT.pem'],
      description: 'Lists the roles in force; any department may ask.',
      options: [['--role ROLE', 'only this role']],
      sharedOptions: [ADMIN_CONNECTION],
      examples: ['zhengtong role list --key dept.key.pem --cert dept.cert.pem'],
    },
    history: {
      summary: 'every grant and withdrawal, with the signed request that made it',
      synopsis: ['[--department USCC] --key KEY.pem --cert CERT.pem'],
      description: 'Lists every role change, oldest first; "signed" marks those made by a signed request (the others were bootstrapped from configuration).',
      options: [['--department USCC', 'only this department\'s']],
      sharedOptions: [ADMIN_CONNECTION],
      examples: ['zhengtong role history --department 11210100001000096L --key dept.key.pem --cert dept.cert.pem'],
    },
  },
};

const PSEUDONYM: CommandGroup = {
  summary: 'the keys of the blind index that stands for ID numbers and USCCs outside the source records: status, rotate',
  description:
    'Outside the source records (extracts, licences, intake case files) subject identifiers are stored as a keyed SM3-HMAC blind index (p<version>.<base64url>). ' +
    'The keys are versioned: new records are indexed with the highest version, searches look under every version. They come from ZT_PSEUDONYM_KEYS or ZT_PSEUDONYM_KEY_FILE (default pseudonym-keys.json beside ZT_CA_DIR, mode 0600); every instance of one database needs the same keys.',
  commands: {
    status: {
      summary: 'the key versions at hand and when the database first saw each',
      synopsis: ['[--json] [--config FILE]'],
      description: 'Checks the keys against the database (a key that differs, or a missing version, is refused) and lists the versions.',
      options: [JSON_OUTPUT, CONFIG],
      examples: ['zhengtong pseudonym status'],
    },
    rotate: {
      summary: 'add a key version; new records are indexed with it after the instances restart',
      synopsis: ['[--config FILE]'],
      description:
        'Adds version n+1 with 32 fresh random bytes to the key file (written whole, mode 0600), or, when the keys come from ZT_PSEUDONYM_KEYS, prints the list with the new key added. ' +
        'Copy the file to every instance and restart them. Records indexed before keep their index (the access log is append-only and its leaves hash them), so the old versions stay: rotation limits what a leaked key exposes to the records indexed with it.',
      options: [CONFIG],
      examples: ['zhengtong pseudonym rotate', 'zhengtong pseudonym status --json'],
    },
  },
};

const OPERATOR_PASSWORD: UsageOption = [
  '--password-file F',
  'read the password from the first line of F; else ZT_OPERATOR_PASSWORD; else it is asked for (twice, not shown) on a terminal, or read from the first line of standard input',
];
const OPERATOR_LOGIN: UsageOption = ['--login LOGIN', 'the account\'s login'];

const OPERATOR: CommandGroup = {
  summary: 'people who sign in to the web console (/console): add, disable, enable, reset, list',
  description:
    'Local accounts of the web console, kept in the configured database (DATABASE_URL, else the embedded database in ZT_DATA_DIR); no running gateway needed. ' +
    'A person acts for one department with the roles it holds in the registry, and is a steward of its supply list and demands; a citizen account acts through a service portal and sees only who read their own data. ' +
    'Passwords are hashed with scrypt and have at least 12 characters; they are never given on the command line. docs/console-sign-in.md has the whole story, sign-in at the city\'s identity provider included.',
  commands: {
    add: {
      summary: 'add a local account for a department\'s staff member, or for a citizen',
      synopsis: ['--login LOGIN --name NAME --department USCC [--citizen --subject ID] [--password-file F] [--json]'],
      description:
        'Adds an account that signs in with LOGIN (letters, digits and . _ @ -, kept in lower case) and the password. ' +
        'With --citizen it is a citizen\'s, acting through the service portal --department names; their resident ID number (--subject) is stored sealed, never in clear, and one citizen has one account.',
      options: [
        OPERATOR_LOGIN,
        ['--name NAME', 'the person\'s name, as the console shows it'],
        ['--department USCC', 'the department the person acts for (a citizen: the service portal)'],
        ['--citizen', 'a citizen\'s account (needs --subject)'],
        ['--subject ID', 'the citizen\'s resident ID number (18 characters)'],
        OPERATOR_PASSWORD,
        JSON_OUTPUT,
        CONFIG,
      ],
      examples: [
        'zhengtong operator add --login wang.li --name 王丽 --department 11210100001000010R',
        'ZT_OPERATOR_PASSWORD=... zhengtong operator add --login liu --name 刘志强 --department 11210100001000109A --citizen --subject 210103198503120312',
      ],
    },
    disable: {
      summary: 'refuse an account\'s sign-ins and end its open sessions',
      synopsis: ['--login LOGIN [--json]'],
      description: 'Disables the account: its open sessions end at once, and signing in answers as a wrong password would. Works for accounts of the identity provider too.',
      options: [OPERATOR_LOGIN, JSON_OUTPUT, CONFIG],
      examples: ['zhengtong operator disable --login wang.li'],
    },
    enable: {
      summary: 'let a disabled account sign in again',
      synopsis: ['--login LOGIN [--json]'],
      description: 'Enables the account again; its password is unchanged (reset sets a new one).',
      options: [OPERATOR_LOGIN, JSON_OUTPUT, CONFIG],
      examples: ['zhengtong operator enable --login wang.li'],
    },
    reset: {
      summary: 'set a new password, unlock the account and end its sessions',
      synopsis: ['--login LOGIN [--password-file F] [--json]'],
      description:
        'Sets a new password for a local account, lifts a lock left by repeated failed sign-ins, and ends the account\'s open sessions (whoever held one signs in again with the new password).',
      options: [OPERATOR_LOGIN, OPERATOR_PASSWORD, JSON_OUTPUT, CONFIG],
      examples: ['zhengtong operator reset --login wang.li --password-file new-password.txt'],
    },
    list: {
      summary: 'every console account: kind, department, source, state',
      synopsis: ['[--json]'],
      description: 'Lists every account by login: staff or citizen, the department it acts for, local or oidc (made at a first sign-in at the identity provider), and whether it is active, locked or disabled.',
      options: [JSON_OUTPUT, CONFIG],
      examples: ['zhengtong operator list', 'zhengtong operator list --json'],
    },
  },
};

export const COMMANDS: CommandGroup = {
  summary: 'government data-sharing exchange and e-licence middleware',
  description: '',
  synopsis: '<command> [--config FILE]',
  commands: {
    serve: {
      summary: 'start the HTTP and gRPC servers (migrates the database; seeds demo data on first start)',
      synopsis: ['[--config FILE]'],
      description:
        'Starts the gateway: HTTP on ZT_HTTP_PORT (API docs at /docs, health at /healthz, metrics at /metrics) and gRPC on ZT_GRPC_PORT (health and server reflection). Migrates the database first and, on a first start, seeds the demo data (ZT_SEED_DEMO). ' +
        'With ZT_WORKERS > 1 it runs that many gateway processes sharing the ports (PostgreSQL and Kafka needed). SIGTERM or SIGINT shuts down gracefully (ZT_SHUTDOWN_TIMEOUT_MS); SIGHUP re-reads the negative list (ZT_POLICY_DIR) and, if it changed, tells the other instances to re-read theirs.',
      options: [CONFIG],
      examples: ['zhengtong serve', 'ZT_HTTP_PORT=9080 DATABASE_URL=postgres://zhengtong@db/zhengtong zhengtong serve --config zhengtong.yaml'],
    },
    migrate: {
      summary: 'apply database migrations and exit',
      synopsis: ['[--config FILE]'],
      description:
        'Applies the pending migrations to the configured database (DATABASE_URL, else the embedded database in ZT_DATA_DIR) and prints the schema version. ' +
        'Then replaces identifiers an older release stored in clear by their blind index (migration 0016, with the pseudonym keys: ZT_PSEUDONYM_KEY_FILE or ZT_PSEUDONYM_KEYS); a log that had signed checkpoints is re-anchored by the next serve, which has the platform key.',
      options: [CONFIG],
      examples: ['zhengtong migrate', 'DATABASE_URL=postgres://zhengtong@db/zhengtong ZT_DATABASE_SCHEMA=zhengtong zhengtong migrate'],
    },
    seed: {
      summary: 'load the demo data (departments, catalogue, licences) and exit; --force loads it again',
      synopsis: ['[--force] [--config FILE]'],
      description:
        'Loads the demo data: departments with their SM2 keys and certificates (in <ZT_DATA_DIR>/demo-keys, to sign with), data resources, demands, licence types and e-licences. Migrates first. A database seeded before is left alone unless --force, which adds what is missing.',
      options: [['--force', 'seed even if the database was seeded before'], CONFIG],
      examples: ['zhengtong seed', 'zhengtong seed --force'],
    },
    config: {
      summary: 'print the effective configuration (passwords hidden) and exit',
      synopsis: ['[--config FILE]'],
      description:
        'Prints every setting as its environment variable and effective value (JSON), once the settings file and the environment are applied and checked; the database password and ZT_CA_PASSPHRASE are hidden.',
      options: [CONFIG],
      examples: ['zhengtong config', 'zhengtong config --config zhengtong.yaml'],
    },
    ca: CA,
    extract: EXTRACT,
    sign: SIGN,
    verify: VERIFY,
    licence: LICENCE,
    audit: AUDIT,
    department: DEPARTMENT,
    role: ROLE,
    pseudonym: PSEUDONYM,
    operator: OPERATOR,
  },
  options: [CONFIG, ['--version', 'print the version'], ['-h, --help', 'print this text; after a command, that command\'s usage']],
  notes: 'Settings come from environment variables; see the README\'s configuration table or `zhengtong config`.',
};
