/**
 * How a signature's bug links look on the pages (top crashers, signature, report): each bug
 * linked through `web.bug_url_template`, the add/remove form for users with `link_bugs`,
 * and the prefilled "file a bug" link (`web.new_bug_url_template`). Pure: the pages hand
 * in what they know; the form posts to `POST /signature/bugs` (`bug-api.ts`).
 */
import type { BugLink } from '../../../ports/bug-links.js';
import { html, type Html } from '../html.js';

export type { BugLink };

/** Where the add/remove form posts. */
export const BUG_LINK_FORM_ACTION = '/signature/bugs';

/** Frames and characters a "file a bug" link carries: browsers and trackers refuse very long URLs (about 8 KB is safe). */
const MAX_TOP_FRAMES = 10;
const MAX_FRAME_CHARS = 200;
const MAX_TITLE_CHARS = 250;

/**
 * A bug's URL from the template, or undefined without one. The id is URL-encoded except
 * for `/` and `:`, which trackers use inside ids and paths (`group/project`, `PROJ:12`).
 */
export function bugHref(template: string | undefined, bugId: string): string | undefined {
  if (!template) return undefined;
  const encoded = encodeURIComponent(bugId).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
  return template.replaceAll('{bug}', encoded);
}

/**
 * The bugs of one signature as a compact inline list (`#1234, PROJ-9`): links when a
 * template is set, plain text otherwise; `empty` (default nothing) when there are none.
 * Fits a table cell (top crashers' bug column) as well as a card.
 */
export function bugLinkList(links: readonly BugLink[] | undefined, template: string | undefined, options: { empty?: Html | string } = {}): Html {
  if (!links || links.length === 0) return html`${options.empty ?? ''}`;
  return html`<span class="bug-links">${links.map((link, i) => {
    const href = bugHref(template, link.bugId);
    const title = `linked ${new Date(link.createdAt).toISOString().slice(0, 10)}${link.createdBy ? ` by ${link.createdBy}` : ''}`;
    const item = href ? html`<a class="bug-link" href="${href}" title="${title}" rel="noreferrer noopener" target="_blank">${link.bugId}</a>` : html`<span class="bug-link" title="${title}">${link.bugId}</span>`;
    return html`${i > 0 ? ', ' : ''}${item}`;
  })}</span>`;
}

export interface BugLinkFormView {
  signature: string;
  /** The page to come back to after the change: a same-site path with its query (`request.url`). */
  returnTo: string;
  /** The session's CSRF field: `csrfField(request)` from `account-pages.ts` (empty for token callers). */
  csrf: Html;
  /** The signature's links, each with a remove button; omitted, the form only adds. */
  links?: readonly BugLink[];
}

/**
 * The add form (a bug id field and a button) and a remove button per linked bug. Show it
 * only to viewers with `link_bugs` (`hasPermission(request, 'link_bugs')`): the route
 * refuses everyone else.
 */
export function bugLinkForm(view: BugLinkFormView): Html {
  const hidden = html`${view.csrf}<input type="hidden" name="signature" value="${view.signature}"><input type="hidden" name="return_to" value="${view.returnTo}">`;
  const removals = (view.links ?? []).map(
    (link) =>
      html`<form class="inline bug-link-remove" method="post" action="${BUG_LINK_FORM_ACTION}">${hidden}<input type="hidden" name="bug_id" value="${link.bugId}"><input type="hidden" name="action" value="remove"><button type="submit" class="danger" title="Unlink bug ${link.bugId} from this signature">✕ ${link.bugId}</button></form>`,
  );
  return html`<div class="bug-link-forms">
  <form class="inline bug-link-add" method="post" action="${BUG_LINK_FORM_ACTION}">${hidden}<input type="hidden" name="action" value="add">
    <label>Link a bug <input type="text" name="bug_id" required maxlength="100" pattern="[A-Za-z0-9][A-Za-z0-9._\\/#:\\-]*" title="letters, digits and . _ / # : -" placeholder="1234 or PROJ-123" aria-label="Bug id to link"></label>
    <button type="submit">Link</button></form>
  ${removals}
</div>`;
}

/** Styles of the forms and lists above, for a page's `<head>`-less body (the layout allows inline styles). */
export const BUG_LINK_STYLE = html`<style>
.bug-links .bug-link { white-space:nowrap; }
a.file-bug { margin-left:12px; white-space:nowrap; }
.bug-link-forms { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin-top:8px; }
.bug-link-forms form.inline { display:inline-flex; gap:6px; align-items:center; margin:0; }
.bug-link-forms input[type=text] { padding:4px 8px; border:1px solid var(--line); border-radius:6px; font:inherit; width:14em; }
.bug-link-forms button { background:var(--link); color:#fff; border:0; border-radius:6px; padding:4px 12px; font:inherit; cursor:pointer; }
.bug-link-forms button.danger { background:#fff; color:var(--accent); border:1px solid var(--accent); padding:2px 8px; font-size:12px; }
</style>`;

export interface FileBugFacts {
  signature: string;
  /** The signature page, absolute (`siteUrl(request, path)`): the bug links back to it. */
  url: string;
  /** Crashes of the signature in the range the viewer looks at, and how that range reads (`in the last 7 days`). */
  count?: number;
  countLabel?: string;
  /** The crashing thread's top frames, innermost first (a report's, or the signature's most common). */
  topFrames?: readonly string[];
  /** More lines for the body (product and versions seen, first build, ...). */
  details?: readonly string[];
}

/** The text a new bug starts with: what a developer needs before opening Crash Stats. */
export function fileBugBody(facts: FileBugFacts): string {
  const lines = [`Crash signature: ${facts.signature}`];
  if (facts.count !== undefined) lines.push(`Crashes: ${facts.count}${facts.countLabel ? ` ${facts.countLabel}` : ''}`);
  lines.push(...(facts.details ?? []));
  const frames = (facts.topFrames ?? []).slice(0, MAX_TOP_FRAMES);
  if (frames.length > 0) {
    lines.push('', 'Top frames:');
    frames.forEach((frame, i) => lines.push(`${i} ${truncate(frame, MAX_FRAME_CHARS)}`));
  }
  lines.push('', `Crash Stats: ${facts.url}`);
  return lines.join('\n');
}

/**
 * The "file a bug" link from `web.new_bug_url_template`, or undefined without one:
 * `{title}` (the signature), `{body}` (`fileBugBody`) and `{signature}`, each URL-encoded.
 */
export function fileBugHref(template: string | undefined, facts: FileBugFacts): string | undefined {
  if (!template) return undefined;
  const values: Record<string, string> = { title: truncate(facts.signature, MAX_TITLE_CHARS), body: fileBugBody(facts), signature: facts.signature };
  return template.replace(/\{(title|body|signature)\}/g, (_, name: string) => encodeURIComponent(values[name]!));
}

/** The "file a bug" link as a button-like anchor, or nothing without a template. */
export function fileBugLink(template: string | undefined, facts: FileBugFacts): Html {
  const href = fileBugHref(template, facts);
  return href ? html`<a class="file-bug" href="${href}" rel="noreferrer noopener" target="_blank">File a bug</a>` : html``;
}

/**
 * An absolute URL of this site for `path` (which starts with `/`), as the viewer reached
 * it: `request.protocol` and `request.host` believe X-Forwarded-* only from
 * `web.trusted_proxies`. Pass `publicUrl` (`web.public_url`) to prefer the configured one.
 */
export function siteUrl(request: { protocol: string; host: string }, path: string, publicUrl?: string): string {
  const origin = publicUrl ? publicUrl.replace(/\/+$/, '') : `${request.protocol}://${request.host}`;
  return `${origin}${path}`;
}


function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
