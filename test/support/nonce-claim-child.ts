// A process that claims one nonce on an embedded (PGlite) database and says so once the claim is answered, then
// waits to be killed: the crash half of exchange/nonce-store.test.ts. Arguments: data directory, nonce key.
import { migrate, PgliteDatabase } from '../../core/storage/index.js';
import { NonceStore } from '../../exchange/nonce-store.js';

const [dataDir, key] = process.argv.slice(2);
const db = await PgliteDatabase.open({ dataDir: dataDir! });
await migrate(db);
const fresh = await new NonceStore(db).claim(key!, new Date(Date.now() + 600_000));
process.stdout.write(`${fresh ? 'claimed' : 'replayed'}\n`);
setInterval(() => undefined, 60_000); // until SIGKILL: no close, no checkpoint
