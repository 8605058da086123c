import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDeployment } from '../../src/configurator/compile.js';
import type { DeploymentFile } from '../../src/configurator/deployment.js';
import { checkEnvironment } from '../../src/configurator/environment.js';
import { presetFiles } from '../../src/configurator/presets.js';
import { freePort } from '../support/free-port.js';

/**
 * The environment layer on this machine: services that do not answer, directories that
 * cannot be written, each at the line that names them. (Answering services are checked
 * in test/e2e/config-cli.test.ts against the machine's PostgreSQL, RabbitMQ and an S3 server.)
 */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function lineOf(files: DeploymentFile[], name: string, line: string): number {
  return files.find((f) => f.name === name)!.text.split('\n').indexOf(line) + 1;
}

describe('checkEnvironment', () => {
  it('reports a broker that does not answer, at the queue URL\'s line', async () => {
    const closed = await freePort();
    const files = presetFiles('distributed', ['elsewhere']).map((f) =>
      f.name === 'common.ini' ? { ...f, text: f.text.replace('amqp://guest:guest@elsewhere:5672', `amqp://guest:guest@127.0.0.1:${closed}`).replace(/postgres:\/\/mayday:mayday@elsewhere:5432/, `postgres://mayday:mayday@127.0.0.1:${closed}`) } : f,
    );
    const findings = await checkEnvironment(compileDeployment(files), { baseDir: tmpdir(), timeoutMs: 3000 });
    expect(findings).toContainEqual(
      expect.objectContaining({
        layer: 'environment',
        code: 'rabbitmq-unreachable',
        severity: 'error',
        file: 'common.ini',
        line: lineOf(files, 'common.ini', `url = amqp://guest:guest@127.0.0.1:${closed}`),
        message: expect.stringMatching(new RegExp(`^RabbitMQ at amqp://127\\.0\\.0\\.1:${closed} does not answer from this machine: .*ECONNREFUSED`)),
      }),
    );
    // Nodes on another host: their directories and ports are not this machine's to check.
    expect(findings.filter((f) => f.code === 'directory-not-writable' || f.code === 'port-unavailable')).toEqual([]);
  });

  it('reports a data directory that cannot be made, at node.data_dir\'s line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayday-env-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a-file'), 'not a directory');
    const [file] = presetFiles('all-in-one');
    const text = file.text.replace('data_dir = ./var', `data_dir = ${join(dir, 'a-file', 'var')}`).replace('port = 8000', 'port = 0');
    const findings = await checkEnvironment(compileDeployment([{ ...file, text }]), { baseDir: dir });
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'directory-not-writable',
        file: 'mayday.ini',
        line: text.split('\n').indexOf(`data_dir = ${join(dir, 'a-file', 'var')}`) + 1,
        message: `mayday cannot write ${join(dir, 'a-file', 'var')}: ${join(dir, 'a-file')} is not a directory`,
      }),
      // raw, processed and symbols live under it: each is reported, at the line that put them there.
      ...Array(3).fill(expect.objectContaining({ code: 'directory-not-writable', file: 'mayday.ini' })),
    ]);
  });
});
