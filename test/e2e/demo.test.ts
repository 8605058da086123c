import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, PROJECT_ROOT, startMayday } from '../support/mayday-process.js';

interface Bucket {
  term: string;
  count: number;
}
interface SearchAnswer {
  total: number;
  hits: Record<string, unknown>[];
  facets: Record<string, Bucket[]>;
}

const DAY_MS = 86_400_000;

describe('mayday start --demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mayday-demo-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fills a fresh data directory with a month of symbolicated sample crashes through the collector, once', async () => {
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

      // Spread over the last 30 days: versions, channels, platforms, hangs, start-up crashes.
      const since = new Date(Date.now() - 31 * DAY_MS).toISOString().slice(0, 10);
      const search = async (query: string): Promise<SearchAnswer> => {
        const response = await fetch(`${node.url}/api/SuperSearch/?date=%3E%3D${since}&${query}`);
        expect(response.status).toBe(200);
        return (await response.json()) as SearchAnswer;
      };
      const facets = await search('_results_number=1000&_columns=date&_columns=uptime&_columns=build_id&_columns=version&_columns=release_channel&_facets=version&_facets=release_channel&_facets=os_name&_facets=report_type&_facets_size=50');
      expect(facets.total).toBe(accepted);
      const terms = (name: string) => facets.facets[name].map((b) => b.term).sort();
      expect(terms('os_name')).toEqual(['Linux', 'Mac OS X', 'Windows NT']);
      // The Windows and macOS samples are symbolicated with the demo's symbols: each platform its own signature.
      for (const [os, signature] of [['Windows NT', 'DemoApp::Renderer::DrawFrame'], ['Mac OS X', 'DemoApp::Storage::Flush']]) {
        const answer = await search(`os_name=${encodeURIComponent(os)}&_results_number=0&_facets=signature`);
        expect(answer.total).toBeGreaterThan(0);
        expect(answer.facets.signature.map((b) => b.term)).toEqual([signature]);
      }
      expect(terms('release_channel')).toEqual(['beta', 'nightly', 'release']);
      expect(terms('version')).toEqual(expect.arrayContaining(['1.0', '1.1', '2.0', '2.1', '2.2b1', '2.3a1']));
      expect(terms('report_type')).toEqual(['crash', 'hang']);
      const days = new Set(facets.hits.map((h) => String(h.date).slice(0, 10)));
      expect(days.size).toBeGreaterThanOrEqual(28);
      const oldest = Math.min(...facets.hits.map((h) => Date.parse(String(h.date))));
      expect(Date.now() - oldest).toBeGreaterThan(25 * DAY_MS);
      expect(Date.now() - oldest).toBeLessThan(30 * DAY_MS);
      expect(facets.hits.filter((h) => typeof h.uptime === 'number' && h.uptime < 60).length).toBeGreaterThan(3);
      // Build ids advance with the versions of a channel.
      const builds = new Map<string, string>();
      for (const h of facets.hits) if (h.release_channel === 'release') builds.set(String(h.version), String(h.build_id));
      const releaseBuilds = ['1.0', '1.1', '2.0', '2.1'].map((v) => builds.get(v));
      expect(releaseBuilds.every((b) => b !== undefined && /^\d{14}$/.test(b))).toBe(true);
      expect(releaseBuilds).toEqual([...releaseBuilds].sort());
      expect(new Set(releaseBuilds).size).toBe(4);

      // The public route never takes a date from the client: the backdating is the demo's own.
      const form = new FormData();
      form.append('ProductName', 'Example');
      form.append('Version', '9.9');
      form.append('submitted_timestamp', '2020-01-01T00:00:00Z');
      form.append('upload_file_minidump', new Blob([readFileSync(join(PROJECT_ROOT, 'fixtures/corpus/dumps/example-app-null.dmp'))]), 'crash.dmp');
      const answer = await (await fetch(`${node.url}/submit`, { method: 'POST', body: form })).text();
      const crashId = /^CrashID=bp-(.+)$/m.exec(answer)?.[1];
      expect(crashId).toBeDefined();
      const raw = (await (await fetch(`${node.url}/api/RawCrash/?crash_id=${crashId}`)).json()) as { submitted_timestamp: string };
      expect(Math.abs(Date.parse(raw.submitted_timestamp) - Date.now())).toBeLessThan(60_000);
    } finally {
      await node.stop('SIGINT');
    }
    const again = await startMayday(['start', '--demo', '--data-dir', dataDir, '--port', '0']);
    try {
      await eventually(async () => (again.stderr().includes('already holds data') ? true : undefined), 10_000, 'the refusal to add more');
    } finally {
      await again.stop('SIGINT');
    }
  });
});
