import { createHash } from 'node:crypto';
import type { AlertSeverity } from '../../../ports/alert-state.js';

/**
 * Alert notices to webhooks: a JSON POST, within a time limit, tried once more when it
 * fails. Webhook URLs carry their tokens (Slack's path, a `?token=`), so a URL is never
 * logged, stored or put in an error: it is named by its host and a hash (`targetId`).
 */

export type WebhookFormat = 'json' | 'slack';

export interface AlertNotice {
  readonly status: 'firing' | 'resolved';
  /** A firing alert's notice sent again (repeat_interval). */
  readonly repeat?: boolean;
  /** A resolved alert's: its condition ended (`recovered`), its node was removed from the registry, or its rule was. */
  readonly reason?: 'recovered' | 'removed' | 'rule_removed';
  /** `RULE:SUBJECT`. */
  readonly alert: string;
  readonly rule: string;
  readonly severity: AlertSeverity;
  readonly subject: string;
  readonly message: string;
  /** ms since epoch: when the condition was first seen holding. */
  readonly since: number;
  /** ms since epoch: when the transition (or repeat) happened. */
  readonly at: number;
  readonly dashboardUrl?: string;
}

/** The body POSTed: `json` is the notice's fields, `slack` an incoming-webhook message. */
export function webhookBody(notice: AlertNotice, format: WebhookFormat): Record<string, unknown> {
  if (format === 'slack') return { text: slackText(notice) };
  return {
    status: notice.status,
    alert: notice.alert,
    rule: notice.rule,
    severity: notice.severity,
    subject: notice.subject,
    message: notice.message,
    ...(notice.reason ? { reason: notice.reason } : {}),
    since: new Date(notice.since).toISOString(),
    at: new Date(notice.at).toISOString(),
    ...(notice.dashboardUrl ? { dashboard_url: notice.dashboardUrl } : {}),
  };
}

/** Slack's mrkdwn: `&`, `<` and `>` are escaped; `<URL|label>` is a link. */
function slackText(notice: AlertNotice): string {
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const head =
    notice.status === 'resolved'
      ? notice.reason === 'removed'
        ? `:wastebasket: *CLOSED (removed from the registry, not recovered)* ${escape(notice.alert)}`
        : notice.reason === 'rule_removed'
          ? `:heavy_minus_sign: *CLOSED (rule removed)* ${escape(notice.alert)}`
          : `:white_check_mark: *RESOLVED* ${escape(notice.alert)}`
      : `${notice.severity === 'critical' ? ':rotating_light:' : ':warning:'} *${notice.repeat ? 'STILL FIRING' : 'FIRING'}* [${notice.severity}] ${escape(notice.alert)}`;
  const lines = [head, escape(notice.message), `since ${new Date(notice.since).toISOString()}`];
  if (notice.dashboardUrl) lines.push(`<${notice.dashboardUrl}|Operations Dashboard>`);
  return lines.join('\n');
}

/** A webhook's name in records and logs: a hash of its whole URL, secrets included (never shown). */
export function targetId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 12);
}

/** What a log line may say of a webhook: its host and its hash. */
export function describeWebhook(url: string): string {
  let host = '(not a URL)';
  try {
    host = new URL(url).host;
  } catch {
    // leave it unnamed
  }
  return `${host}#${targetId(url)}`;
}

export interface PostOptions {
  /** Longest one attempt may take. */
  readonly timeoutMs: number;
  /** Wait before the second attempt (default 1 s). */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

/** POSTs `body` as JSON; a network error, a timeout, 429 or 5xx is tried once more. Throws an error naming the webhook by `describeWebhook`. */
export async function postWebhook(url: string, body: unknown, options: PostOptions): Promise<void> {
  const name = describeWebhook(url);
  let lastError = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    if (attempt === 2) await sleep(options.retryDelayMs ?? 1000, options.signal);
    if (options.signal?.aborted) break;
    const outcome = await attemptPost(url, body, options);
    if (outcome.ok) return;
    lastError = outcome.error;
    if (!outcome.retry) break;
  }
  throw new Error(`webhook ${name}: ${scrub(lastError, url)}`);
}

async function attemptPost(url: string, body: unknown, options: PostOptions): Promise<{ ok: true } | { ok: false; error: string; retry: boolean }> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'mayday-alerts' },
      body: JSON.stringify(body),
      signal,
      // A redirect would send the notice somewhere the operator did not name.
      redirect: 'error',
    });
    // The body is read (and dropped) so the connection can be reused, within the same limit.
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true };
    return { ok: false, error: `HTTP ${response.status}`, retry: response.status === 429 || response.status >= 500 };
  } catch (error) {
    if (timeout.aborted) return { ok: false, error: `no answer within ${options.timeoutMs} ms`, retry: true };
    if (options.signal?.aborted) return { ok: false, error: 'aborted', retry: false };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (error as Error).message ?? String(error), retry: true };
  }
}

/**
 * The dead-man's switch: a GET of `alerts.heartbeat_url` (healthchecks.io, Dead Man's
 * Snitch, Uptime Kuma's push monitors and their kin all take a GET), one attempt within
 * `timeoutMs`: the next evaluation pings again, and a monitor allows for a missed ping by
 * its grace time. Resolves to undefined when the monitor took it, else to why not (the URL
 * scrubbed out: it is the monitor's token). Never throws.
 */
export async function pingHeartbeat(url: string, options: Pick<PostOptions, 'timeoutMs' | 'signal' | 'fetch'>): Promise<string | undefined> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await (options.fetch ?? fetch)(url, { method: 'GET', headers: { 'user-agent': 'mayday-alerts' }, signal });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    if (timeout.aborted) return `no answer within ${options.timeoutMs} ms`;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return scrub(cause?.code ?? cause?.message ?? (error as Error).message ?? String(error), url);
  }
}

/** Removes the URL (and its path and query, where tokens live) from an error message. */
function scrub(message: string, url: string): string {
  let out = message.split(url).join('(webhook)');
  try {
    const u = new URL(url);
    for (const secret of [u.pathname + u.search, u.search, u.username, u.password]) {
      if (secret.length > 1) out = out.split(secret).join('…');
    }
  } catch {
    // not a URL: nothing more to hide
  }
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
