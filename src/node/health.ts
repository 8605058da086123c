import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { versionInfo } from '../common/version.js';
import { withAccess } from '../auth/route-access.js';

/** A named dependency check for `/__heartbeat__`; it throws when the dependency is unusable. */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 5000;

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
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, { status: 'ok' }] as const;
        } catch (error) {
          return [name, { status: 'error', message: (error as Error).message }] as const;
        }
      }),
    );
    const healthy = results.every(([, r]) => r.status === 'ok');
    return reply.code(healthy ? 200 : 500).send({ status: healthy ? 'ok' : 'error', checks: Object.fromEntries(results) });
  });
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
