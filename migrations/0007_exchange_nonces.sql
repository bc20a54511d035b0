-- Nonces of signed exchange requests, shared by every gateway instance: a nonce is claimed once per signer within
-- the signature window, so a captured request cannot be replayed on another instance. The key is
-- SM3(certificate SM3 ‖ nonce) in hex; rows past expires_at are removed by the gateways.
CREATE TABLE exchange_nonces (
  key         char(64) PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX exchange_nonces_expiry ON exchange_nonces (expires_at);
