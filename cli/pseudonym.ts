// `zhengtong pseudonym status|rotate`: the keys of the blind index that stands for subject identifiers outside the
// source records (core/pseudonyms, docs/audit-log.md). Rotation adds a key version; new records are indexed with it
// once the instances have read it (at their next start), and searches look under every version, so records indexed
// before stay findable. Old versions stay as long as records indexed with them are kept.
import { parseArgs } from 'node:util';
import type { Config } from '../core/config/index.js';
import { ZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { addPseudonymKeyVersion, newPseudonymKey, openPseudonyms, parsePseudonymKeyList, pseudonymSettings } from '../core/pseudonyms/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';

export interface PseudonymIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export async function runPseudonym(config: Config, argv: string[], io: PseudonymIo = process): Promise<number> {
  const [, sub, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, config: { type: 'string' } }, strict: true, allowPositionals: false });
  const db = await openDatabase(config, createLogger({ level: 'warn', instanceId: config.instanceId! }));
  try {
    await migrate(db);
    // The keys at hand must be the ones the database was written with (or the database knows none yet).
    const index = await openPseudonyms(db, pseudonymSettings(config, sub === 'rotate'));
    const { rows } = await db.query<{ version: number; registered_at: Date }>('SELECT version, registered_at FROM pseudonym_keys ORDER BY version');
    if (sub === 'status') {
      const status = {
        source: config.pseudonymKeys ? 'ZT_PSEUDONYM_KEYS' : config.pseudonymKeyFile,
        current: index.current,
        versions: index.versions.slice().sort((a, b) => a - b).map((v) => ({ version: v, registeredAt: rows.find((r) => r.version === v)?.registered_at ?? null })),
      };
      if (values.json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else {
        io.stdout.write(`pseudonym keys from ${status.source}: new records are indexed with version ${status.current}; searches look under ${status.versions.length === 1 ? 'it' : `all ${status.versions.length}`}\n`);
        for (const v of status.versions) io.stdout.write(`  version ${v.version}${v.registeredAt ? `  registered ${new Date(v.registeredAt).toISOString()}` : ''}\n`);
      }
      return 0;
    }
    if (sub === 'rotate') {
      const version = index.current + 1;
      if (config.pseudonymKeys) {
        // The keys come from the environment: the new one is printed for the operator to add there.
        parsePseudonymKeyList(config.pseudonymKeys);
        io.stdout.write(`${config.pseudonymKeys.trim()},${version}:${newPseudonymKey()}\n`);
        io.stderr.write(`set this as ZT_PSEUDONYM_KEYS on every instance and restart them; records are indexed with version ${version} from then on\n`);
        return 0;
      }
      const added = addPseudonymKeyVersion(config.pseudonymKeyFile);
      io.stdout.write(
        `added pseudonym key version ${added} to ${config.pseudonymKeyFile}; copy the file to every instance of this database and restart them: ` +
          `each indexes new records with version ${added} from its restart, and searches look under every version (an instance without the new version is refused at start once another has used it)\n`,
      );
      return 0;
    }
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `unknown pseudonym command ${JSON.stringify(sub ?? '')}: status or rotate`);
  } finally {
    await db.close();
  }
}
