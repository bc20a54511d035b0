// `zhengtong extract load`: a supplier's extract (CSV or JSONL) loaded into the exchange's own tables (前置库), all
// or nothing, from which the exchange then answers for that resource. Items and supplier come from the resource's
// catalogue entry; every bad row is reported with its line.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../core/config/index.js';
import { ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { openPseudonyms, pseudonymSettings } from '../core/pseudonyms/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';
import { loadExtract, parseCsvExtract, parseJsonlExtract } from '../exchange/extracts/index.js';
import { SqlResourceStore } from '../registry/catalogue/index.js';

function usage(message: string): never {
  throw new ZtError('ZT_ERR_REQUEST_INVALID', `${message} (zhengtong extract load --help)`);
}

/** `zhengtong extract load …`: argv includes "extract". Usage and unknown commands are answered by cli/main.ts first. */
export async function runExtract(config: Config, argv: string[]): Promise<void> {
  const sub = argv[1];
  if (sub !== 'load') usage(`unknown extract command "${sub}"`);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(2),
      allowPositionals: true,
      options: { resource: { type: 'string' }, 'subject-item': { type: 'string' }, 'subject-kind': { type: 'string' }, config: { type: 'string' } },
    });
  } catch (error) {
    usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const resource = values.resource;
  const subjectItems = values['subject-item']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  const subjectKind = values['subject-kind'] ?? 'person';
  if (!resource || subjectItems.length === 0 || positionals.length !== 1) usage('extract load needs --resource CODE, --subject-item ITEM and one FILE');
  if (subjectKind !== 'person' && subjectKind !== 'organisation') usage('--subject-kind must be person or organisation');
  const file = positionals[0]!;
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_INVALID', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const kind = extname(file).toLowerCase();
  if (kind !== '.csv' && kind !== '.jsonl') usage(`${file} is neither .csv nor .jsonl`);
  const parsedFile = kind === '.csv' ? parseCsvExtract(content) : parseJsonlExtract(content);

  const db = await openDatabase(config, createLogger({ level: 'warn', instanceId: config.instanceId! }));
  try {
    await migrate(db);
    const entry = await new SqlResourceStore(db).get(resource);
    if (!entry) throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `no data resource in the catalogue has code ${JSON.stringify(resource)}`);
    const started = performance.now();
    const pseudonyms = await openPseudonyms(db, pseudonymSettings(config));
    const report = await loadExtract(db, {
      resource,
      supplier: entry.provider,
      pseudonyms,
      items: entry.items.map((i) => ({ code: i.code, type: i.type })),
      subjectKind,
      subjectItem: subjectItems.length === 1 ? subjectItems[0]! : subjectItems,
      rows: parsedFile.rows,
      fileSm3: parsedFile.fileSm3,
      fileName: basename(file),
      lineOf: parsedFile.lineOf,
    });
    process.stdout.write(
      `loaded ${report.rows} rows (${report.records} records) of ${resource} from ${entry.provider} in ${Math.round(performance.now() - started)} ms; extract ${report.id}, file SM3 ${report.fileSm3}\n`,
    );
  } finally {
    await db.close();
  }
}
