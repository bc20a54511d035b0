import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isZtError } from '../../../core/errors/index.js';
import { BlindIndex } from '../../../core/pseudonyms/index.js';
import type { Queryable } from '../../../core/storage/index.js';
import { describeWithService } from '../../../test/support/services.js';
import { pgliteHarness, postgresHarness } from '../../extracts/test-databases.js';
import { tableConnectorContract } from './table-connector.contract.js';
import { TableConnector } from './table-connector.js';

describe('table connector on PGlite', () => {
  tableConnectorContract(pgliteHarness());
});

describeWithService('postgres', 'table connector on PostgreSQL', () => {
  tableConnectorContract(postgresHarness('zt_table_connector'));
});

/** A database that fails every query. */
const brokenDatabase: Queryable = {
  query: () => Promise.reject(Object.assign(new Error('connection terminated'), { code: '57P01' })),
  exec: () => Promise.reject(new Error('connection terminated')),
};

describe('table connector without its database', () => {
  it('reports the table as an unavailable upstream, keeping the cause', async () => {
    const connector = new TableConnector(brokenDatabase, '210100-GA-0001', new BlindIndex([{ version: 1, key: randomBytes(32) }]));
    const error = await connector.fetch({ resource: '210100-GA-0001', subject: { kind: 'person', code: '210103198503120312' }, items: ['name'] }).catch((e: unknown) => e);
    expect(isZtError(error) && error.code).toBe('ZT_ERR_UPSTREAM_UNAVAILABLE');
    expect((error as Error).cause).toMatchObject({ code: '57P01' });
  });
});
