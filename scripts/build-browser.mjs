// Bundles the browser apps into dist/public/, where the web role serves them from
// (/assets/NAME.js and .css): the Configurator (src/configurator/web/) and the Operations
// Dashboard (src/dashboard/web/). One bundle per app with every dependency in it (Preact,
// elkjs, fflate, uPlot, and the same validator and graph code the CLI runs): the page's
// Content-Security-Policy allows scripts from the site only.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/configurator/web/main.tsx', out: 'configurator' },
    { in: 'src/configurator/web/configurator.css', out: 'configurator' },
    { in: 'src/dashboard/web/main.tsx', out: 'dashboard' },
    { in: 'src/dashboard/web/dashboard.css', out: 'dashboard' },
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
