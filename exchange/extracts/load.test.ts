import { describe } from 'vitest';
import { describeWithService } from '../../test/support/services.js';
import { loadContract } from './load.contract.js';
import { pgliteHarness, postgresHarness } from './test-databases.js';

describe('loading extracts on PGlite', () => {
  loadContract(pgliteHarness());
});

describeWithService('postgres', 'loading extracts on PostgreSQL', () => {
  loadContract(postgresHarness('zt_extracts'));
});
