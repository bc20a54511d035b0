export { isValidUscc, usccCheckCharacter, USCC_ALPHABET } from './uscc.js';
export { isValidResidentId, residentIdCheckCharacter } from './resident-id.js';
