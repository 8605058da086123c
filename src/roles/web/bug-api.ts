/**
 * Signatures ↔ bugs over HTTP: Socorro's `GET /api/Bugs/` and `GET /api/SignaturesByBugs/`
 * (public, as on Crash Stats), Mayday's `POST` and `DELETE /api/BugLinks/` for scripts,
 * and `POST /signature/bugs` for the pages' add/remove form (`pages/bug-links.ts`).
 * Changing links needs the `link_bugs` permission.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BUG_ID_PATTERN, type BugLink, type BugLinkStore } from '../../ports/bug-links.js';
import { withAccess } from '../../auth/route-access.js';
import { fieldValues, formBodyParser } from './form-body.js';
import { errorPage } from './pages.js';
import { sameSiteReturnPath } from './account-pages.js';

/** Most signatures or bug ids one lookup may name (Socorro's clients send a page of top crashers at a time). */
export const MAX_LOOKUP_VALUES = 1000;
/** Longest signature accepted: generated ones have at most 255 characters; hand-made ones a little room more. */
export const MAX_SIGNATURE_LENGTH = 1024;
/** A link names one signature and one bug: a small body. */
const LINK_BODY_LIMIT = 16 * 1024;
/** Longest `return_to` the bug form takes (a page's URL with its filters). */
const MAX_RETURN_TO = 2000;

export interface BugApiOptions {
  bugLinks: BugLinkStore;
}

type Params = Record<string, unknown>;

export class BugLinkInputError extends Error {}

/** A bug id as stored: trimmed, and of the shape `BUG_ID_PATTERN` allows; throws saying why not. */
export function parseBugId(raw: string | undefined): string {
  const id = raw?.trim() ?? '';
  if (id === '') throw new BugLinkInputError('bug_id is missing');
  if (!BUG_ID_PATTERN.test(id)) throw new BugLinkInputError(`"${id.slice(0, 120)}" is not a bug id: up to 100 letters, digits and . _ / # : -, starting with a letter or digit (1234, PROJ-123, group/project#12)`);
  return id;
}

/** A signature as given (signatures are exact, spaces included); throws when missing or too long. */
export function parseSignature(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new BugLinkInputError('signature is missing');
  if (raw.length > MAX_SIGNATURE_LENGTH) throw new BugLinkInputError(`signature is longer than ${MAX_SIGNATURE_LENGTH} characters`);
  return raw;
}

function lookupValues(query: Params, name: string, split: boolean): string[] {
  let given = fieldValues(query[name]);
  if (split) given = given.flatMap((v) => v.split(','));
  given = given.map((v) => (split ? v.trim() : v)).filter((v) => v !== '');
  if (given.length === 0) throw new BugLinkInputError(`give at least one ${name}`);
  if (given.length > MAX_LOOKUP_VALUES) throw new BugLinkInputError(`at most ${MAX_LOOKUP_VALUES} ${name} per request`);
  return given;
}

/** Socorro's `{id, signature}` hit (its ids are Bugzilla numbers; here a tracker's id, as text). */
const hit = (link: BugLink) => ({ id: link.bugId, signature: link.signature });

export const bugApiPlugin: FastifyPluginAsync<BugApiOptions> = async (app, options) => {
  const { bugLinks } = options;
  // Scripts and the pages' form both post forms; JSON comes through Fastify's own parser.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, formBodyParser({ maxFields: 20 }));
  const linkers = { permission: 'link_bugs' } as const;

  const refuse = (reply: FastifyReply, error: unknown): FastifyReply => {
    if (error instanceof BugLinkInputError) return reply.code(400).send({ error: error.message });
    throw error;
  };

  app.get<{ Querystring: Params }>('/api/Bugs/', withAccess('public'), async (request, reply) => {
    try {
      const signatures = lookupValues(request.query, 'signatures', false).map((s) => parseSignature(s));
      const links = await bugLinks.forSignatures(signatures);
      // Socorro's order: by signature as asked, each signature's bugs newest first.
      const hits = [...new Set(signatures)].flatMap((s) => (links.get(s) ?? []).map(hit));
      return { hits, total: hits.length };
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.get<{ Querystring: Params }>('/api/SignaturesByBugs/', withAccess('public'), async (request, reply) => {
    try {
      const ids = lookupValues(request.query, 'bug_ids', true).map((id) => parseBugId(id));
      const hits = (await bugLinks.forBugs(ids)).map(hit);
      return { hits, total: hits.length };
    } catch (error) {
      return refuse(reply, error);
    }
  });

  /** The link a body or query names: JSON or form, `signature` and `bug_id`. */
  const linkOf = (request: FastifyRequest): { signature: string; bugId: string } => {
    const body = (request.body ?? {}) as Params;
    const query = (request.query ?? {}) as Params;
    const field = (name: string) => fieldValues(body[name])[0] ?? fieldValues(query[name])[0];
    return { signature: parseSignature(field('signature')), bugId: parseBugId(field('bug_id')) };
  };

  app.post<{ Querystring: Params }>('/api/BugLinks/', withAccess(linkers, { bodyLimit: LINK_BODY_LIMIT }), async (request, reply) => {
    try {
      const { signature, bugId } = linkOf(request);
      const added = await bugLinks.add(signature, bugId, request.principal?.user ?? request.session?.user ?? null);
      if (added) request.log.info({ signature, bugId, user: request.principal?.user ?? request.session?.user }, 'bug linked to a signature');
      return reply.code(added ? 201 : 200).send({ signature, bug_id: bugId, added });
    } catch (error) {
      return refuse(reply, error);
    }
  });

  // DELETE takes the link in its query string too: some HTTP clients send no body with it.
  app.delete<{ Querystring: Params }>('/api/BugLinks/', withAccess(linkers, { bodyLimit: LINK_BODY_LIMIT }), async (request, reply) => {
    try {
      const { signature, bugId } = linkOf(request);
      if (!(await bugLinks.remove(signature, bugId))) return reply.code(404).send({ error: 'this bug is not linked to this signature', signature, bug_id: bugId });
      request.log.info({ signature, bugId, user: request.principal?.user ?? request.session?.user }, 'bug unlinked from a signature');
      return { signature, bug_id: bugId, removed: true };
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.post('/signature/bugs', withAccess(linkers, { bodyLimit: LINK_BODY_LIMIT }), async (request, reply) => {
    const body = (request.body ?? {}) as Params;
    const html = (status: number, title: string, message: string) =>
      reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'private').send(errorPage(title, message));
    const action = fieldValues(body.action)[0] ?? 'add';
    if (action !== 'add' && action !== 'remove') return html(400, 'Cannot change the bug links', `Unknown action "${action}": add or remove.`);
    const returnTo = fieldValues(body.return_to)[0];
    const target = returnTo === undefined ? undefined : sameSiteReturnPath(returnTo, MAX_RETURN_TO);
    if (returnTo !== undefined && target === undefined) return html(400, 'Cannot change the bug links', 'return_to must be a path of this site, starting with a single "/".');
    let link: { signature: string; bugId: string };
    try {
      link = linkOf(request);
    } catch (error) {
      if (error instanceof BugLinkInputError) return html(400, 'Cannot change the bug links', `${error.message}.`);
      throw error;
    }
    const user = request.session?.user ?? request.principal?.user ?? null;
    if (action === 'add') await bugLinks.add(link.signature, link.bugId, user);
    else await bugLinks.remove(link.signature, link.bugId);
    request.log.info({ signature: link.signature, bugId: link.bugId, action, user }, 'bug links changed');
    return reply.redirect(target ?? `/signature/?signature=${encodeURIComponent(link.signature)}`, 303);
  });
};
