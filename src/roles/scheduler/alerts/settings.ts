import type { AlertSettings } from './job.js';
import { alertRules, type ConfiguredRule } from './rules.js';
import type { WebhookFormat } from './webhook.js';

/**
 * The alerts job's settings from the `[alerts]` and `[dashboard]` sections (structurally:
 * roles do not import the configuration). `dashboardUrl` goes into notices, e.g.
 * `${web.public_url}/dashboard`.
 */
export function alertSettings(
  alerts: {
    readonly webhook_urls: readonly string[];
    readonly format: WebhookFormat;
    readonly repeat_interval: number;
    readonly evaluate_interval: number;
    readonly timeout: number;
    readonly heartbeat_url?: string;
    readonly rules: readonly ConfiguredRule[];
  },
  dashboard: { readonly down_after: number; readonly queue_growing_minutes?: number },
  dashboardUrl?: string,
): AlertSettings {
  return {
    rules: alertRules(alerts.rules, dashboard.down_after, { queueGrowingMinutes: dashboard.queue_growing_minutes }),
    webhookUrls: alerts.webhook_urls,
    format: alerts.format,
    repeatIntervalMs: alerts.repeat_interval,
    evaluateIntervalMs: alerts.evaluate_interval,
    timeoutMs: alerts.timeout,
    downAfterMs: dashboard.down_after,
    ...(alerts.heartbeat_url ? { heartbeatUrl: alerts.heartbeat_url } : {}),
    ...(dashboardUrl ? { dashboardUrl } : {}),
  };
}
