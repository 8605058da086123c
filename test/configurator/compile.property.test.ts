import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { listOptions } from '../../src/config/schema.js';
import { compileDeployment } from '../../src/configurator/compile.js';
import type { DeploymentFile } from '../../src/configurator/deployment.js';
import { diffDeployments } from '../../src/configurator/diff.js';

/**
 * The compiler and validator take files anyone can paste into the web tool: whatever the
 * text, they answer with findings (each placed in a file of the deployment, at a line it
 * has), never an exception, and the graph's edges join elements it has.
 */

const options = listOptions().filter((o) => o.spec.kind !== 'rules');
const sectionNames = [...new Set(options.map((o) => o.section)), 'throttle.rules.r1', 'retention.products.p', 'bogus'];
const values = ['', '0', '1', '-5', '8000', 'true', 'no', '10s', '1h', '512MB', 'fs', 's3', 'sqlite', 'postgresql', 'rabbitmq', 'collector', 'processor, web', 'collector, processor, web, scheduler', 'a', 'b', '0.0.0.0', '127.0.0.1', 'http://x:9000', 'postgres://u:p@db:5432/m', 'amqp://g:g@mq', '^x(', '../up', '/abs/path', 'a,b,,c', '"quoted"', '\u00e9\u0000'];

const line = fc.oneof(
  fc.constantFrom(...sectionNames).map((s) => `[${s}]`),
  fc.tuple(fc.constantFrom(...options), fc.constantFrom(...values)).map(([o, v]) => `${o.key} = ${v}`),
  fc.tuple(fc.constantFrom('action', 'product', 'version', 'sample', 'annotation.OS', 'days'), fc.constantFrom(...values)).map(([k, v]) => `${k} = ${v}`),
  fc.constantFrom('include = common.ini', 'include = other.ini', 'include = n0.ini', '; comment', '', '[', 'junk line', 'host = a'),
  fc.string({ maxLength: 20 }),
);
const file = fc.array(line, { maxLength: 25 }).map((lines) => lines.join('\n'));
const deployment = fc.array(file, { minLength: 1, maxLength: 5 }).map((texts) => texts.map<DeploymentFile>((text, i) => ({ name: i === texts.length - 1 ? 'common.ini' : `n${i}.ini`, text, mode: i % 2 ? 0o644 : 0o600 })));

describe('compileDeployment on arbitrary files', () => {
  it('never throws; findings are placed in the deployment; edges join known elements', () => {
    fc.assert(
      fc.property(deployment, (files) => {
        const compiled = compileDeployment(files);
        const names = new Set(files.map((f) => f.name));
        for (const finding of compiled.findings) {
          expect(names.has(finding.file), finding.file).toBe(true);
          const lines = files.find((f) => f.name === finding.file)!.text.split('\n').length;
          if (finding.line !== undefined) expect(finding.line >= 1 && finding.line <= lines, `${finding.file}:${finding.line} of ${lines}`).toBe(true);
        }
        const ids = new Set([...compiled.graph.nodes.map((n) => n.id), ...compiled.graph.resources.map((r) => r.id)]);
        for (const edge of compiled.graph.edges) expect(ids.has(edge.from) && ids.has(edge.to)).toBe(true);
        expect(() => diffDeployments(compiled, compiled)).not.toThrow();
      }),
      { numRuns: 400 },
    );
  });
});
