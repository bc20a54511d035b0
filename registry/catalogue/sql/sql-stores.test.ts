import { describe } from 'vitest';
import { PgDatabase, PgliteDatabase, type Database } from '../../../core/storage/index.js';
import { describeWithService, postgresUrl, uniqueName } from '../../../test/support/services.js';
import { catalogueStoreContract } from './catalogue-stores.contract.js';

describe('catalogue SQL stores on PGlite', () => {
  catalogueStoreContract({
    open: () => PgliteDatabase.open({ dataDir: undefined }),
    dispose: async () => undefined,
  });
});

describeWithService('postgres', 'catalogue SQL stores on PostgreSQL', () => {
  const schema = uniqueName('zt_catalogue');
  catalogueStoreContract({
    open: (): Promise<Database> => PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema }),
    async dispose() {
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  });
});
