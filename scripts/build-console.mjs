// Builds the web console (console/web) into dist/web: esbuild bundles the Preact page, its CSS and uPlot's CSS
// into content-hashed files under assets/, and this script writes index.html (no inline script or style, so the
// strict Content-Security-Policy of console/static.ts holds) and manifest.json (what the gateway may serve).
// Run by `npm run build`, hence at `npm install` (prepare) and `npm start`.
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// dist/web, not dist/console: tsc compiles console/*.ts (the gateway's side) into dist/console.
const target = join(root, 'dist', 'web');
// Built beside the target and swapped in at the end, so a gateway (or a concurrent build) never sees half a console.
const out = `${target}.building-${process.pid}`;
const assets = join(out, 'assets');
const started = Date.now();

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'console/web/main.tsx')],
  outdir: assets,
  bundle: true,
  splitting: true, // jsPDF and QR code load only on the licences page
  format: 'esm',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.png': 'file', '.svg': 'file', '.woff2': 'file' },
  // jsPDF's optional HTML rendering (html2canvas, DOMPurify, canvg) is not used: left out of the bundle.
  external: ['html2canvas', 'dompurify', 'canvg'],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((p) => basename(p));
const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith('console/web/main.tsx'));
if (!entry) throw new Error('esbuild produced no entry for console/web/main.tsx');
const js = basename(entry[0]);
const css = entry[1].cssBundle ? basename(entry[1].cssBundle) : null;

const html = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>政通 · 数据共享控制台</title>
${css ? `<link rel="stylesheet" href="/console/assets/${css}">\n` : ''}<script type="module" src="/console/assets/${js}"></script>
</head>
<body>
<div id="app"><noscript>控制台需要启用 JavaScript。The console needs JavaScript.</noscript></div>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ files, entry: { js, css }, builtAt: new Date().toISOString() }, null, 2)}\n`);
const old = `${target}.old-${process.pid}`;
if (existsSync(target)) renameSync(target, old);
renameSync(out, target);
rmSync(old, { recursive: true, force: true });
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`console: ${files.length} files, ${Math.round(bytes / 1024)} KiB in dist/web (${Date.now() - started} ms)`);
