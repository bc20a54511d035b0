// What the console accounts' tests share: a migrated database per suite (PGlite, and PostgreSQL when
// ZT_TEST_DATABASE_URL is set: the same tests run on both), a blind index, a clock to move, and an HTTP harness that
// resolves console sessions the way the gateway's hook does (gateway/http/server.ts) around the session routes.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, describe } from 'vitest';
import { BlindIndex } from '../../core/pseudonyms/index.js';
import { migrate, PgDatabase, PgliteDatabase, type Database } from '../../core/storage/index.js';
import { errorBodySchema, toCatalogueError } from '../../transport/http-errors.js';
import { setAuthorised } from '../../transport/http-signed-body.js';
import { cookieValue, CSRF_HEADER, SESSION_COOKIE, type PersonAuthenticator } from '../../transport/person.js';
import { postgresUrl, uniqueName } from '../../test/support/services.js';

export type OpenDatabase = () => Promise<Database>;

/** Runs `body` once per database kind at hand, each test opening a fresh migrated schema. */
export function describeOnDatabases(title: string, body: (open: OpenDatabase) => void): void {
  describe(`${title} (PGlite)`, () => {
    let shared: Promise<PgliteDatabase> | null = null;
    let n = 0;
    afterAll(async () => {
      await (await shared)?.close();
    });
    body(async () => {
      const db = await (shared ??= PgliteDatabase.open({ dataDir: undefined }));
      const schema = `console_test_${++n}`;
      await db.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      await migrate(db);
      return db;
    });
  });
  if (!postgresUrl) return;
  describe(`${title} (PostgreSQL)`, () => {
    const opened: { db: Database; schema: string }[] = [];
    afterAll(async () => {
      for (const o of opened) await o.db.close();
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      for (const o of opened) await admin.exec(`DROP SCHEMA IF EXISTS ${o.schema} CASCADE`);
      await admin.close();
    });
    body(async () => {
      const schema = uniqueName('zt_console');
      const db = await PgDatabase.open({ url: postgresUrl!, poolSize: 4, schema });
      opened.push({ db, schema });
      await migrate(db);
      return db;
    });
  });
}

export function testPseudonyms(): BlindIndex {
  return new BlindIndex([{ version: 1, key: randomBytes(32) }]);
}

/** A clock the test moves. */
export class TestClock {
  #t: number;
  constructor(start = Date.parse('2026-12-07T09:00:00Z')) {
    this.#t = start;
  }
  now = (): Date => new Date(this.#t);
  advance(ms: number): void {
    this.#t += ms;
  }
  minutes(m: number): void {
    this.advance(m * 60_000);
  }
}

/** A fastify app that enforces `person` routes as the gateway does, with the gateway's error bodies. */
export function consoleHarness(persons: PersonAuthenticator): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addSchema(errorBodySchema);
  app.addHook('preValidation', async (request) => {
    const access = (request.routeOptions.config as { access?: { kind: string } }).access;
    if (access?.kind !== 'person') return;
    const header = request.headers[CSRF_HEADER];
    const person = await persons.authenticate({
      cookie: cookieValue(request.headers.cookie, SESSION_COOKIE),
      csrf: typeof header === 'string' ? header : undefined,
      changesState: !['GET', 'HEAD', 'OPTIONS'].includes(request.method),
    });
    setAuthorised(request, { caller: null, verification: null, person });
  });
  app.setErrorHandler((error, request, reply) => {
    const zt = toCatalogueError(error);
    return reply.code(zt.httpStatus).send(zt.toBody(request.id));
  });
  return app;
}
