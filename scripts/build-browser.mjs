// Bundles the Configurator's browser app (src/configurator/web/) into dist/public/, where
// the web role serves it from (/assets/configurator.js and .css). One bundle with every
// dependency in it (Preact, elkjs, fflate, and the same validator the CLI runs): the page's
// Content-Security-Policy allows scripts from the site only.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/configurator/web/main.tsx', out: 'configurator' },
    { in: 'src/configurator/web/configurator.css', out: 'configurator' },
  ],
  outdir: 'dist/public',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The sources import `./x.js` for `./x.ts` (NodeNext style); esbuild resolves that itself.
  logLevel: 'warning',
  legalComments: 'linked',
});
