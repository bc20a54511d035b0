// Files replaced whole: written under a name of their own beside the target, then renamed over it, so a reader or a
// crash sees the old file or the new one, never half of one. The temporary name carries the process and a random
// part, so two writers (two processes, or two calls in one) never share it.
import { randomBytes } from 'node:crypto';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';

/** Writes `content` to `path` in one step, with exactly `mode` (the umask may narrow a new file's mode). */
export function replaceFile(path: string, content: string | Uint8Array, mode: number): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}
