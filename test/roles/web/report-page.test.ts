/**
 * The report page's triage additions, on real stores: durations, the details table, the
 * JSON links and the stackwalker output route, source links (hg:, git:, configured rules),
 * the crashing thread shown once, the "no symbols" badge only on frames with a module,
 * bug links, the signature link's context, the Reprocess button and the reprocessing wait.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { humanDuration } from '../../../src/roles/web/pages/report.js';
import { parseVcsFile, sourceLocation, sourceLinkRulesFromConfig } from '../../../src/roles/web/pages/source-links.js';
import { startWebNode, type WebNode } from './reprocess-support.js';

const RULES = [{ prefix: '/builds/app/', url: 'https://git.example.com/app/src/{revision}/{path}#L{line}', revisionAnnotation: 'SourceRevision' }];
const HG = 'hg:hg.mozilla.org/mozilla-central:dom/base/Foo.cpp:abcdef123';
const GIT = 'git:github.com/org/repo:path/file.cc:0123456789abcdef0123456789abcdef01234567';

let node: WebNode;
let id: string;
let noRevision: string;
const get = async (url: string, headers: Record<string, string> = {}) => node.app.inject({ method: 'GET', url, headers });

const jsonDump = {
  threads: [
    {
      thread_name: 'worker',
      frames: [{ frame: 0, module: 'libc.so.6', function: 'futex_wait_on_worker', trust: 'context' }],
    },
    {
      thread_name: 'main',
      frames: [
        { frame: 0, module: 'app', function: 'crashing_function_here', file: HG, line: 42, trust: 'context', inlines: [{ function: 'inlined_helper', file: GIT, line: 7 }] },
        { frame: 1, module: 'app', function: 'caller_fn', file: '/builds/app/src/main.cc', line: 10, trust: 'cfi' },
        { frame: 2, module: 'libfoo.so', module_offset: '0x1234', trust: 'cfi', missing_symbols: true },
        { frame: 3, offset: '0xdeadbeef', trust: 'scan', missing_symbols: true },
      ],
    },
  ],
  modules: [{ filename: 'app', debug_file: 'app', debug_id: 'ABC', loaded_symbols: true }],
};

beforeAll(async () => {
  node = await startWebNode({ sourceLinks: RULES });
  id = await node.addCrash(
    {
      signature: 'crashing_function_here',
      product: 'Harbor',
      version: '2.1',
      uptime: 95,
      install_age: 200_000,
      last_crash: 3600,
      crashing_thread: 1,
      email: 'someone@example.com',
      cpu_count: 8,
      json_dump: jsonDump,
    },
    { SourceRevision: 'feedface' },
  );
  noRevision = await node.addCrash({ signature: 'other', crashing_thread: 1, json_dump: jsonDump });
  await node.bugLinks.add('crashing_function_here', '1234', 'alice');
});
afterAll(() => node.close());

describe('report page', () => {
  it('shows uptime, install age and time since the last crash as durations', async () => {
    const body = (await get(`/report/index/${id}`)).body;
    expect(body).toMatch(/<th>Uptime<\/th><td class=""><span title="95 seconds">1 min 35 s<\/span>/);
    expect(body).toContain('<span title="200000 seconds">2 days 7 h</span>');
    expect(body).toContain('<span title="3600 seconds">1 h</span>');
    expect(humanDuration(0)).toBe('0 s');
    expect(humanDuration(59)).toBe('59 s');
    expect(humanDuration(86_400 * 2 + 300)).toBe('2 days');
    expect(humanDuration(3 * 3600 + 12 * 60 + 5)).toBe('3 h 12 min');
  });

  it('lists every processed field the viewer may see in a details table', async () => {
    const anonymous = (await get(`/report/index/${id}`)).body;
    const details = /<table class="kv" id="details">([^]*?)<\/table>/.exec(anonymous)![1]!;
    for (const name of ['uuid', 'product', 'version', 'cpu_count', 'uptime', 'signature', 'date_processed']) expect(details).toContain(`>${name}</th>`);
    expect(details).toContain('title="Number of CPUs."');
    expect(details).not.toContain('>json_dump</th>');
    expect(details).not.toContain('>email</th>');
    expect(anonymous).not.toContain('someone@example.com');
    const protectedView = (await get(`/report/index/${id}`, { 'auth-token': await node.token(['view_protected']) })).body;
    expect(/id="details">([^]*?)<\/table>/.exec(protectedView)![1]).toContain('someone@example.com');
  });

  it('links the raw and processed JSON and the stackwalker output, which the route serves', async () => {
    const body = (await get(`/report/index/${id}`)).body;
    expect(body).toContain(`href="/api/RawCrash/?crash_id=${id}"`);
    expect(body).toContain(`href="/api/ProcessedCrash/?crash_id=${id}"`);
    expect(body).toContain(`href="/report/stackwalker/${id}"`);
    const output = await get(`/report/stackwalker/${id}`);
    expect(output.statusCode).toBe(200);
    expect(output.headers['content-type']).toMatch(/application\/json/);
    expect(output.json()).toEqual(jsonDump);
    expect((await get('/report/stackwalker/nope')).statusCode).toBe(400);
    expect((await get('/report/stackwalker/11111111-2222-4333-8444-555555250301')).statusCode).toBe(404);
  });

  it('links source lines: hg: and git: FILE records, and the configured rule at the crash\'s revision', async () => {
    const body = (await get(`/report/index/${id}`)).body;
    expect(body).toContain('href="https://hg.mozilla.org/mozilla-central/file/abcdef123/dom/base/Foo.cpp#l42"');
    expect(body).toMatch(/href="https:\/\/hg\.mozilla\.org[^"]*"[^>]*>dom\/base\/Foo\.cpp:42<\/a>/);
    expect(body).toContain('href="https://github.com/org/repo/blob/0123456789abcdef0123456789abcdef01234567/path/file.cc#L7"');
    expect(body).toContain('href="https://git.example.com/app/src/feedface/src/main.cc#L10"');
    // Without the revision annotation the rule makes no link (it would show other lines).
    const other = (await get(`/report/index/${noRevision}`)).body;
    expect(other).not.toContain('git.example.com');
    expect(other).toContain('/builds/app/src/main.cc:10');
  });

  it('shows the crashing thread once, marked, and the other threads below', async () => {
    const body = (await get(`/report/index/${id}`)).body;
    expect(body.match(/<td class="mono">crashing_function_here<\/td>/g)).toHaveLength(1);
    expect(body).toMatch(/<h2>Crashing thread \(1 · <span class="mono">main<\/span>\) <span class="badge err">crashed<\/span><\/h2>/);
    expect(body).toContain('Other threads <span class="badge">1</span>');
    expect(body).toContain('futex_wait_on_worker');
  });

  it('puts the "no symbols" badge only on frames that have a module', async () => {
    const frames = /<table id="frames"[^]*?<\/table>/.exec((await get(`/report/index/${id}`)).body)![0];
    const rows = frames.split('<tr>').filter((r) => r.includes('badge'));
    expect(rows.find((r) => r.includes('libfoo.so'))).toContain('no symbols');
    expect(rows.find((r) => r.includes('0xdeadbeef'))).not.toContain('no symbols');
    expect(frames.match(/no symbols<\/span>/g)).toHaveLength(1);
  });

  it('shows the signature\'s bug links and links the signature page with the crash\'s product and version', async () => {
    const body = (await get(`/report/index/${id}`)).body;
    expect(body).toMatch(/id="report-bugs">[^]*1234/);
    expect(body).toContain('href="/signature/?signature=crashing_function_here&amp;product=Harbor&amp;version=2.1"');
    expect((await get(`/report/index/${noRevision}`)).body).toContain('none linked');
  });
});

describe('reprocessing from the report page', () => {
  it('offers the Reprocess button only to viewers with reprocess, with the session\'s CSRF token', async () => {
    expect((await get(`/report/index/${id}`)).body).not.toContain('id="reprocess-form"');
    const viewer = await node.session(['view_protected']);
    expect((await get(`/report/index/${id}`, { cookie: viewer.cookie })).body).not.toContain('id="reprocess-form"');
    const { cookie, csrf } = await node.session(['reprocess']);
    const form = /<form method="post" action="\/reprocess" id="reprocess-form"[^]*?<\/form>/.exec((await get(`/report/index/${id}`, { cookie })).body)![0];
    expect(form).toContain(`name="csrf_token" value="${csrf}"`);
    expect(form).toContain(`name="crash_id" value="${id}"`);
    expect(form).toContain(`name="return_to" value="/report/index/${id}"`);
  });

  it('says "reprocessing…" and refreshes while the crash waits, then shows the new result', async () => {
    const crash = await node.addCrash({ signature: 'old_signature', submitted: new Date(Date.now() - 60_000) });
    const { cookie, csrf } = await node.session(['reprocess']);
    const posted = await node.app.inject({
      method: 'POST',
      url: '/reprocess',
      payload: new URLSearchParams({ csrf_token: csrf, crash_id: crash, return_to: `/report/index/${crash}` }).toString(),
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(posted.statusCode).toBe(303);
    const waiting = (await get(posted.headers.location as string, { cookie })).body;
    expect(waiting).toContain('id="reprocessing"');
    expect(waiting).toContain('<meta http-equiv="refresh" content="2">');
    expect(waiting).toContain('old_signature');

    // The processor's part: take the crash, save a newer processing, acknowledge.
    const item = (await node.queue.take())!;
    expect(item.crashId).toBe(crash);
    const old = (await node.processed.get(crash))!;
    await node.processed.save({ ...old, signature: 'new_signature', date_processed: new Date(Date.now() + 1000).toISOString() });
    // Saved, not yet acknowledged: already the new result (a page that showed neither would stop refreshing here).
    const saved = (await get(posted.headers.location as string, { cookie })).body;
    expect(saved).toContain('id="reprocessed"');
    expect(saved).toContain('new_signature');
    await node.queue.ack(item);

    const done = (await get(posted.headers.location as string, { cookie })).body;
    expect(done).not.toContain('http-equiv="refresh"');
    expect(done).not.toContain('id="reprocessing"');
    expect(done).toContain('id="reprocessed"');
    expect(done).toContain('new_signature');
  });
});

describe('source links', () => {
  it('parses hg: and git: records strictly', () => {
    expect(parseVcsFile(HG)).toEqual({ kind: 'hg', host: 'hg.mozilla.org', repo: 'mozilla-central', path: 'dom/base/Foo.cpp', revision: 'abcdef123' });
    expect(parseVcsFile('git:github.com/org/repo:a/b.cc:nothex')).toBeUndefined();
    expect(parseVcsFile('git:evil host/x:a.cc:abcdef12')).toBeUndefined();
    expect(parseVcsFile('git:github.com/org/repo:../../etc/passwd:abcdef12')).toBeUndefined();
    expect(parseVcsFile('/plain/path.cc')).toBeUndefined();
  });

  it('makes GitLab and googlesource links in their layouts, encodes paths, and compares Windows paths', () => {
    expect(sourceLocation('git:gitlab.com/g/p:src/a b.c:abcdef12', 3, [], {}).href).toBe('https://gitlab.com/g/p/-/blob/abcdef12/src/a%20b.c#L3');
    expect(sourceLocation('git:chromium.googlesource.com/chromium/src:base/x.cc:abcdef12', 9, [], {}).href).toBe('https://chromium.googlesource.com/chromium/src/+/abcdef12/base/x.cc#9');
    const rules = [{ prefix: 'C:\\build\\app\\', url: 'https://example.com/{revision}/{path}#L{line}', revisionAnnotation: 'rev' }];
    expect(sourceLocation('c:\\other\\x.cc', 1, rules, { rev: 'r1' }).href).toBeUndefined();
    expect(sourceLocation('C:\\build\\app\\src\\x.cc', 1, rules, { REV: 'a/b' })).toEqual({ display: 'src/x.cc:1', href: 'https://example.com/a%2Fb/src/x.cc#L1' });
    expect(sourceLocation('/builds/app/x.cc', 1, [{ prefix: '/builds/app/', url: 'javascript:{path}', revisionAnnotation: 'r' }], { r: '1' }).href).toBeUndefined();
  });

  it('reads the rules from the configuration\'s shape', () => {
    expect(sourceLinkRulesFromConfig([{ fields: { prefix: '/b/', url: 'https://x/{path}', revision_annotation: 'SourceRevision' } }])).toEqual([{ prefix: '/b/', url: 'https://x/{path}', revisionAnnotation: 'SourceRevision' }]);
  });
});
