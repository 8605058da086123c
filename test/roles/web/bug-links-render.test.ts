/**
 * The bug-link pieces the pages render (`pages/bug-links.ts`), and the two URL templates
 * of the configuration that drive them (`web.bug_url_template`, `web.new_bug_url_template`).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { html } from '../../../src/roles/web/html.js';
import { sameSiteReturnPath } from '../../../src/roles/web/account-pages.js';
import { bugHref, bugLinkForm, bugLinkList, fileBugBody, fileBugHref, fileBugLink, siteUrl, type BugLink } from '../../../src/roles/web/pages/bug-links.js';

const link = (bugId: string, extra: Partial<BugLink> = {}): BugLink => ({ signature: 'sig', bugId, createdAt: Date.UTC(2026, 0, 2), createdBy: 'alice', ...extra });
const GITHUB = 'https://github.com/acme/app/issues/{bug}';

describe('bug links on the pages', () => {
  it('link each bug through the template, encoding what a URL cannot hold', () => {
    expect(bugHref(GITHUB, '1234')).toBe('https://github.com/acme/app/issues/1234');
    expect(bugHref('https://gitlab.example/{bug}', 'group/project#12')).toBe('https://gitlab.example/group/project%2312');
    expect(bugHref('https://jira.example/browse/{bug}', 'PROJ-7')).toBe('https://jira.example/browse/PROJ-7');
    expect(bugHref(undefined, '1234')).toBeUndefined();
  });

  it('list bugs as links with a template, as plain text without, and escape both', () => {
    const linked = bugLinkList([link('1234'), link('PROJ-9', { createdBy: null })], GITHUB).text;
    expect(linked).toContain('<a class="bug-link" href="https://github.com/acme/app/issues/1234" title="linked 2026-01-02 by alice"');
    expect(linked).toContain('>PROJ-9</a>');
    expect(linked).toContain('title="linked 2026-01-02"');
    const plain = bugLinkList([link('1234')], undefined).text;
    expect(plain).not.toContain('<a');
    expect(plain).toContain('<span class="bug-link" title="linked 2026-01-02 by alice">1234</span>');
    // A stored id is checked on the way in; the markup does not rely on it.
    expect(bugLinkList([link('"><script>')], GITHUB).text).not.toContain('<script>');
    expect(bugLinkList([], GITHUB, { empty: '—' }).text).toBe('—');
    expect(bugLinkList(undefined, GITHUB).text).toBe('');
  });

  it('render the add form and one remove button per bug, with the CSRF field, escaping the signature', () => {
    const markup = bugLinkForm({ signature: 'a"b<c> | d', returnTo: '/signature/?signature=a&days=3', csrf: html`<input type="hidden" name="csrf_token" value="T">`, links: [link('1234'), link('PROJ-9')] }).text;
    expect(markup.match(/<form /g)).toHaveLength(3);
    expect(markup.match(/action="\/signature\/bugs"/g)).toHaveLength(3);
    expect(markup.match(/name="csrf_token" value="T"/g)).toHaveLength(3);
    expect(markup).toContain('value="a&quot;b&lt;c&gt; | d"');
    expect(markup).toContain('name="return_to" value="/signature/?signature=a&amp;days=3"');
    expect(markup).toContain('<input type="hidden" name="bug_id" value="PROJ-9"><input type="hidden" name="action" value="remove">');
    expect(markup).toContain('name="action" value="add"');
  });

  it('prefill a "file a bug" link: title the signature, body counts, top frames and the way back, all URL-encoded', () => {
    const facts = { signature: 'OOM | small & <big>', url: 'https://crash.example/signature/?signature=OOM', count: 42, countLabel: 'in the last 7 days', topFrames: ['mozalloc_abort', 'moz_xmalloc'], details: ['Versions: 2.1, 2.0'] };
    const href = fileBugHref('https://github.com/acme/app/issues/new?title={title}&body={body}&labels=crash', facts)!;
    const url = new URL(href);
    expect(url.searchParams.get('title')).toBe('OOM | small & <big>');
    expect(url.searchParams.get('labels')).toBe('crash');
    expect(url.searchParams.get('body')).toBe(fileBugBody(facts));
    expect(fileBugBody(facts)).toBe(
      ['Crash signature: OOM | small & <big>', 'Crashes: 42 in the last 7 days', 'Versions: 2.1, 2.0', '', 'Top frames:', '0 mozalloc_abort', '1 moz_xmalloc', '', 'Crash Stats: https://crash.example/signature/?signature=OOM'].join('\n'),
    );
    expect(fileBugHref('https://bugzilla.example/enter_bug.cgi?short_desc={title}&cf_crash_signature={signature}', facts)).toContain('cf_crash_signature=OOM%20%7C%20small%20%26%20%3Cbig%3E');
    expect(fileBugHref(undefined, facts)).toBeUndefined();
    expect(fileBugLink(undefined, facts).text).toBe('');
    expect(fileBugLink('https://x.example/new?t={title}', facts).text).toContain('href="https://x.example/new?t=OOM%20%7C%20small%20%26%20%3Cbig%3E"');
  });

  it('keeps a "file a bug" link short enough for browsers, however long the stack', () => {
    const href = fileBugHref('https://github.com/acme/app/issues/new?title={title}&body={body}', { signature: 's'.repeat(255), url: 'https://x/', topFrames: Array.from({ length: 100 }, () => 'f'.repeat(1000)) })!;
    expect(href.length).toBeLessThan(8000);
    expect(new URL(href).searchParams.get('body')).toContain('9 ffff');
    expect(new URL(href).searchParams.get('body')).not.toContain('10 ffff');
  });

  it('build absolute URLs of this site, preferring the configured public URL', () => {
    expect(siteUrl({ protocol: 'https', host: 'crash.example:8443' }, '/signature/?signature=a')).toBe('https://crash.example:8443/signature/?signature=a');
    expect(siteUrl({ protocol: 'http', host: '127.0.0.1' }, '/x', 'https://crash.example/')).toBe('https://crash.example/x');
  });

  it('accept only same-site paths to go back to', () => {
    for (const good of ['/', '/signature/?signature=a%20b&days=3', '/topcrashers/?version=2.1#x']) expect(sameSiteReturnPath(good, 2000), good).toBe(good);
    for (const bad of ['', 'signature/', '//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a\nb', '/a\\b', `/${'a'.repeat(2000)}`]) expect(sameSiteReturnPath(bad, 2000), bad).toBeUndefined();
  });
});

describe('bug URL templates in the configuration', () => {
  const load = (text: string) => loadConfig({ file: { name: 'mayday.ini', text }, env: {} });

  it('accept GitHub, GitLab, Jira and Bugzilla shapes', () => {
    const { config, findings } = load(
      '[web]\nbug_url_template = https://bugzilla.example.org/show_bug.cgi?id={bug}\nnew_bug_url_template = https://gitlab.com/acme/app/-/issues/new?issue[title]={title}&issue[description]={body}\n',
    );
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(config!.web.bug_url_template).toBe('https://bugzilla.example.org/show_bug.cgi?id={bug}');
    expect(config!.web.new_bug_url_template).toContain('{body}');
    expect(load('').config!.web.bug_url_template).toBeUndefined();
  });

  it('refuse a template without {bug}, with an unknown placeholder, or not http(s), at its line', () => {
    for (const [text, message] of [
      ['[web]\nbug_url_template = https://github.com/acme/app/issues/\n', /must contain \{bug\}/],
      ['[web]\nbug_url_template = https://github.com/acme/app/issues/{id}\n', /unknown placeholder \{id\}/],
      ['[web]\nbug_url_template = javascript:alert({bug})\n', /http or https/],
      ['[web]\nnew_bug_url_template = https://x.example/new?t={titel}\n', /unknown placeholder \{titel\}/],
    ] as const) {
      const { config, findings } = load(text);
      expect(config, text).toBeUndefined();
      expect(findings.map((f) => `${f.line}: ${f.message}`).join('\n'), text).toMatch(message);
      expect(findings[0]!.line, text).toBe(2);
    }
  });
});
