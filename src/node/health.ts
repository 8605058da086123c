import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { versionInfo } from '../common/version.js';
import { withTimeout } from '../common/with-timeout.js';
import { withAccess } from '../auth/route-access.js';

/** A named dependency check for `/__heartbeat__`; it throws when the dependency is unusable. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 5000;

export interface CheckResult {
  name: string;
  ok: boolean;
  /** How long the check took (until it failed or timed out), ms. */
  ms: number;
  /** Why it failed. */
  message?: string;
}

/** Runs the checks together, each within `timeoutMs`: `/__heartbeat__` and the heartbeat's probes. */
export function runChecks(checks: readonly HealthCheck[], timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async ({ name, check }) => {
      const started = performance.now();
      const took = (): number => Math.round((performance.now() - started) * 100) / 100;
      try {
        await withTimeout(check(), timeoutMs);
        return { name, ok: true, ms: took() };
      } catch (error) {
        return { name, ok: false, ms: took(), message: (error as Error).message };
      }
    }),
  );
}

/**
 * `/metrics` serves the node's Prometheus registry. Dockerflow's endpoints, on every node: `/__lbheartbeat__` says the process answers (for
 * load balancers, no dependency checks), `/__heartbeat__` checks each storage and queue
 * the node uses (500 if any fails), `/__version__` says what is running.
 */
export const healthPlugin: FastifyPluginAsync<{ checks: HealthCheck[]; metrics: Registry }> = async (app, { checks, metrics }) => {
  app.get('/__lbheartbeat__', withAccess('public'), async () => ({}));

  app.get('/metrics', withAccess('public'), async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  app.get('/__version__', withAccess('public'), async () => versionInfo());

  app.get('/__heartbeat__', withAccess('public'), async (_request, reply) => {
    const results = (await runChecks(checks)).map(({ name, ok, message }) => [name, ok ? { status: 'ok' } : { status: 'error', message }] as const);
    const healthy = results.every(([, r]) => r.status === 'ok');
    return reply.code(healthy ? 200 : 500).send({ status: healthy ? 'ok' : 'error', checks: Object.fromEntries(results) });
  });
};
