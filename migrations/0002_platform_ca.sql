-- Certificates the platform CA (平台CA) issued to departments, with their revocation status. The CA's own keys
-- stay in files (PKCS#8 PEM, mode 0600) under ZT_CA_DIR; what every gateway instance must agree on lives here.
CREATE TABLE issued_certificates (
  serial             text PRIMARY KEY CHECK (serial ~ '^[0-9A-F]{2,40}$'),
  issuer_serial      text NOT NULL,
  subject            text NOT NULL,
  department_uscc    char(18),
  fingerprint_sm3    text NOT NULL UNIQUE,
  der                bytea NOT NULL,
  not_before         timestamptz NOT NULL,
  not_after          timestamptz NOT NULL,
  issued_at          timestamptz NOT NULL DEFAULT now(),
  revoked_at         timestamptz,
  revocation_reason  text CHECK (revocation_reason IN (
    'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded',
    'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'))
);
CREATE INDEX issued_certificates_department ON issued_certificates (department_uscc);
CREATE INDEX issued_certificates_revoked ON issued_certificates (issuer_serial) WHERE revoked_at IS NOT NULL;

-- CRL numbers increase monotonically per issuing CA (RFC 5280 5.2.3), across instances.
CREATE TABLE crl_numbers (
  issuer_serial  text PRIMARY KEY,
  last_number    bigint NOT NULL
);
