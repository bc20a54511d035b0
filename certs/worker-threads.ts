// Starting a worker thread from a module beside the caller: <name>.js in dist/, <name>.ts under tsx and vitest.
// Node 20 does not apply `--import tsx` from a worker's execArgv to the worker's own entry module
// (ERR_UNKNOWN_FILE_EXTENSION), so for TypeScript sources the worker starts from a two-line bootstrap that registers
// tsx, then imports the file. Workers would inherit the process's flags, and some break a worker's start
// (`node --input-type=module -e …` makes the worker file unloadable); a worker needs none but source maps.
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** tsx's ESM API: require.resolve picks its CommonJS twin (index.cjs), whose ESM half sits beside it as index.mjs. */
function tsxEsmApi(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/** Starts the worker module `name` that lies beside the module at `callerUrl` (its import.meta.url). */
export function startWorker(callerUrl: string, name: string, options: Pick<WorkerOptions, 'workerData'> = {}): Worker {
  const extension = extname(fileURLToPath(callerUrl));
  const url = new URL(`./${name}${extension}`, callerUrl);
  const execArgv = process.execArgv.filter((flag) => flag === '--enable-source-maps');
  if (extension === '.ts') {
    const entry = `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
    return new Worker(entry, { ...options, eval: true, execArgv });
  }
  return new Worker(url, { ...options, execArgv });
}
