/**
 * Security headers on every answer of the node (pages, API, collector, errors), with
 * @fastify/helmet.
 *
 * The Content-Security-Policy allows no script but the site's own files (the pages have
 * none: no inline script, no event handler attributes), no plugins, no framing (with
 * `X-Frame-Options: DENY` for older browsers: `/account` must not be framed for
 * clickjacking), and forms that post only to the site. Styles may be inline: the pages
 * use `<style>` blocks and `style` attributes (chart bars are sized that way), and CSS
 * cannot run code. No `upgrade-insecure-requests` and no HSTS: a node may be served over
 * plain http on a private network, and a TLS proxy in front is the place to set HSTS.
 * Referrers go to the site only: crash ids and search queries in URLs stay here.
 */

import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyPluginAsync } from 'fastify';

export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'base-uri': ["'none'"],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

const OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
  strictTransportSecurity: false,
};

const plugin: FastifyPluginAsync = async (app) => {
  await app.register(helmet, OPTIONS);
};
// Not encapsulated: the headers go on every route of the app, whichever plugin adds it.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const securityHeadersPlugin = plugin;
