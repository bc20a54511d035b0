// Pseudonymous identifiers at rest (假名化存储): the blind index of subject identifiers and where its keys come from.
export {
  BLIND_INDEX,
  BLIND_INDEX_SQL,
  BlindIndex,
  blindIndexVersion,
  hmacSm3,
  isBlindIndex,
  normaliseIdentifier,
  PSEUDONYM_KEY_BYTES,
  type PseudonymKey,
} from './blind-index.js';
export {
  addPseudonymKeyVersion,
  createPseudonymKeyFile,
  newPseudonymKey,
  openPseudonyms,
  parsePseudonymKeyList,
  PSEUDONYM_KEY_FILE_NAME,
  PSEUDONYM_KEY_FILE_SCHEMA,
  pseudonymSettings,
  readPseudonymKeyFile,
  type OpenPseudonymsOptions,
} from './keys.js';
export { redactIdentifiers, IDENTIFIER_PATTERN } from './redact.js';
