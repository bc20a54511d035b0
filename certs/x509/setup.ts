// The one place where SM2 is plugged into the two X.509 libraries. Importing this module installs, once per process:
// - in @peculiar/x509: the SM2 algorithm names (tsyringe registry) and the SM2-aware WebCrypto as default provider;
// - in pkijs: the CryptoEngine that verifies SM2-with-SM3 with sm2Verify.
// Idempotent: the registrations are marked, so a second copy of this module finds them and adds nothing.
// tsyringe refuses to load without the Reflect metadata polyfill: it must come first.
import 'reflect-metadata';
import type { webcrypto } from 'node:crypto';
import { container } from 'tsyringe';
import type * as pkijs from 'pkijs';
import { installPkijsEngine } from './pkijs-engine.js';
import { Sm2Algorithm, SM2_ALGORITHM_MARK } from './sm2-algorithm.js';
import { createSm2WebCrypto, isSm2WebCrypto } from './sm2-webcrypto.js';
import { x509 } from './x509-lib.js';

function installX509Algorithm(): void {
  const registered = container.isRegistered(x509.diAlgorithm) ? container.resolveAll<object>(x509.diAlgorithm) : [];
  if (registered.some((provider) => (provider as Record<symbol, unknown>)[SM2_ALGORITHM_MARK] === true)) return;
  container.register(x509.diAlgorithm, { useValue: new Sm2Algorithm() });
}

function installX509Crypto(): webcrypto.Crypto {
  if (x509.cryptoProvider.has(x509.CryptoProvider.DEFAULT)) {
    const current = x509.cryptoProvider.get() as unknown;
    if (isSm2WebCrypto(current)) return current as webcrypto.Crypto;
  }
  // The SM2-aware WebCrypto passes every other algorithm to Node's, so it is a safe default for all callers.
  const crypto = createSm2WebCrypto();
  x509.cryptoProvider.set(crypto);
  return crypto;
}

installX509Algorithm();

/** The WebCrypto used with @peculiar/x509 here: Node's, plus SM2 and SM3. */
export const sm2WebCrypto: webcrypto.Crypto = installX509Crypto();
/** pkijs's global engine, able to verify SM2-with-SM3. */
export const pkijsEngine: pkijs.ICryptoEngine = installPkijsEngine();
