import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startMayday } from '../support/mayday-process.js';

describe('mayday start --demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mayday-demo-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fills a fresh data directory with symbolicated sample crashes through the real pipeline, once', async () => {
    const node = await startMayday(['start', '--demo', '--data-dir', dataDir, '--port', '0']);
    let accepted = 0;
    try {
      accepted = Number(
        (await eventually(async () => /--demo: submitted (\d+) sample crashes/.exec(node.stderr())?.[1], 20_000, 'the demo submissions')),
      );
      expect(accepted).toBeGreaterThan(50);
      await eventually(async () => {
        const html = await (await fetch(`${node.url}/`)).text();
        return html.includes(`${accepted} processed`) ? true : undefined;
      }, 30_000, 'every demo crash to be processed');
      const html = await (await fetch(`${node.url}/`)).text();
      expect(html).toContain('crash_null_deref');
    } finally {
      node.child.kill('SIGINT');
      await node.exited;
    }
    const again = await startMayday(['start', '--demo', '--data-dir', dataDir, '--port', '0']);
    try {
      await eventually(async () => (again.stderr().includes('already holds data') ? true : undefined), 10_000, 'the refusal to add more');
    } finally {
      again.child.kill('SIGINT');
      await again.exited;
    }
  });
});
