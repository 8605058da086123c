/**
 * Renders the graph tests' sample deployment to test-artifacts/configurator/sample-graph.{svg,png,dot,mmd},
 * to look at while working on the renderers: `npx tsx scripts/configurator-graph-sample.ts [scale]`.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderDot } from '../src/configurator/graph/dot.js';
import { layoutDeployment } from '../src/configurator/graph/layout.js';
import { renderMermaid } from '../src/configurator/graph/mermaid.js';
import { renderPng } from '../src/configurator/graph/png.js';
import { renderSvg } from '../src/configurator/graph/svg.js';
import { sampleFindings, sampleGraph } from '../test/configurator/graph-sample.js';

const out = join(import.meta.dirname, '..', 'test-artifacts', 'configurator');
const scale = Number(process.argv[2] ?? '1');

const graph = sampleGraph();
const findings = sampleFindings();
const started = performance.now();
const laid = await layoutDeployment(graph, findings);
const laidOut = performance.now();
const svg = renderSvg(laid, { title: 'Sample deployment: 3 hosts, 7 nodes' });
const png = renderPng(svg, { scale });
const rendered = performance.now();

await mkdir(out, { recursive: true });
await writeFile(join(out, 'sample-graph.svg'), svg);
await writeFile(join(out, 'sample-graph.png'), png);
await writeFile(join(out, 'sample-graph.dot'), renderDot(graph, findings));
await writeFile(join(out, 'sample-graph.mmd'), renderMermaid(graph, findings));
console.log(`layout ${Math.round(laidOut - started)} ms, svg+png ${Math.round(rendered - laidOut)} ms; ${laid.width}x${laid.height}; wrote ${out}/sample-graph.{svg,png,dot,mmd}`);
