import Fastify, { LogController, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { resolvePaths, type ResolvedPaths } from '../config/resolve.js';
import { collectorPlugin } from '../roles/collector/plugin.js';
import { CollectorMetrics } from '../roles/collector/metrics.js';
import { throttleRulesFromConfig } from '../roles/collector/throttler.js';
import { FsPendingCrashes } from '../adapters/fs-pending-crashes.js';
import { join } from 'node:path';
import { webPlugin } from '../roles/web/plugin.js';
import { crashApiPlugin } from '../roles/web/crash-api.js';
import { reprocessingApiPlugin } from '../roles/web/reprocessing-api.js';
import { verifyProcessed } from '../roles/scheduler/verify-processed.js';
import { RULESET_NAMES } from '../schema/rulesets.js';
import { searchApiPlugin } from '../roles/web/search-api.js';
import { quickSearchPlugin } from '../roles/web/quick-search.js';
import { ProcessorWorker } from '../roles/processor/worker.js';
import { rulesets, type RulesetOptions } from '../roles/processor/rules.js';
import type { Stackwalker } from '../roles/processor/rule.js';
import { SignatureListError } from '../signature/index.js';
import { UserError } from '../common/errors.js';
import { ProcessorMetrics } from '../roles/processor/metrics.js';
import { healthPlugin, type HealthCheck } from './health.js';
import { Heartbeat } from './heartbeat.js';
import { databaseSize } from './storage-size.js';
import { configFingerprint } from './config-fingerprint.js';
import { WebMetrics, webMetricsPlugin } from './web-metrics.js';
import { statusPlugin } from '../roles/web/status.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { StackwalkPool, hardLimitGraceMs, registerSymbolCacheMetrics } from './stackwalk-pool.js';
import { availableParallelism } from 'node:os';
import { buildSymbolStore, symbolSourcesOptions, symbolStagingDir } from './symbol-sources.js';
import { accountPagesPlugin } from '../roles/web/account-pages.js';
import { adminUsersPlugin } from '../roles/web/admin-users-page.js';
import { oidcRoutesPlugin } from '../roles/web/oidc-routes.js';
import { missingMappedGroups, singleSignOnFromConfig } from './single-sign-on.js';
import { openApiPlugin } from '../roles/web/openapi.js';
import { configuratorPagePlugin } from '../roles/web/configurator-page.js';
import { accountsExistProbe } from '../auth/accounts-probe.js';
import { opsApiPlugin } from '../roles/web/ops-api.js';
import { dashboardPagePlugin } from '../roles/web/dashboard-page.js';
import { redactTokenRewriteUrl, requestAuthPlugin } from '../auth/request-auth.js';
import { symbolsPlugin } from '../roles/symbols/plugin.js';
import { acceptSymUploadV2Key } from '../roles/symbols/sym-upload-v2.js';
import { securityHeadersPlugin } from './security-headers.js';
import { DEFAULT_LINGER_MS, lingeringClosePlugin } from './lingering-close.js';
import { dependencyOutage, serverErrorsPlugin } from './server-errors.js';
import { rateLimitsPlugin } from './rate-limits.js';
import { describeAccess, routeAccessPlugin } from '../auth/route-access.js';
import { Scheduler } from '../roles/scheduler/scheduler.js';
import { scheduledJobs, type JobSettings } from '../roles/scheduler/jobs.js';
import { alertSettings } from '../roles/scheduler/alerts/settings.js';
import { jobsApiPlugin } from '../roles/web/jobs-api.js';
import { bugApiPlugin } from '../roles/web/bug-api.js';
import { socorroApiPlugin } from '../roles/web/socorro-api.js';
import { loadSignatureLists } from '../roles/processor/signature-rule.js';
import { reprocessPagePlugin } from '../roles/web/reprocess-page-route.js';
import { stackwalkerOutputPlugin } from '../roles/web/stackwalker-output-route.js';
import { sourceLinkRulesFromConfig } from '../roles/web/pages/source-links.js';
import { hostname } from 'node:os';
import { buildBackends, type Adapters } from './backends.js';
import type { FieldCatalog } from '../schema/field-catalog.js';

export type { Adapters };

export interface RunningNode {
  url: string;
  metrics: Registry;
  paths: ResolvedPaths;
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;
  /** Every route the node serves (method, URL pattern, who may call it): the API docs and the access rules are checked against it. */
  routes: readonly { method: string; url: string; access: string }[];
  worker?: ProcessorWorker;
  /** The processor's stackwalk threads. */
  stackwalkPool?: StackwalkPool;
  /**
   * Where the collector puts crashes: for in-process loaders (`mayday start --demo`, which
   * backdates its sample crashes without the public /submit route ever taking a date).
   */
  intake: { rawCrashStore: Adapters['rawCrashStore']; queue: Adapters['queue']; fields: FieldCatalog };
  /** Stops taking work, lets in-flight requests and crashes finish, closes storage. */
  close(): Promise<void>;
}

/**
 * Builds and starts one node: adapters from the config, a Fastify server with the HTTP
 * roles the config names mounted as plugins, and the processor worker if named.
 */
export async function startNode(config: Config, options: { cwd: string; log: Logger }): Promise<RunningNode> {
  const { log } = options;
  const paths = resolvePaths(config, options.cwd);
  const roles = new Set(config.node.roles);
  const backends = await buildBackends(config, paths, roles, log);
  const { adapters, registry, missingSymbols, tokens, accounts, jobLedger, alertState, opsHistory, bugLinks } = backends;

  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    // Crash reporters retry on connection errors; keep-alive connections idle at shutdown
    // are closed so that `close()` does not wait for them.
    forceCloseConnections: 'idle',
    // Request timeouts guard against clients that stop sending mid-body.
    // Generous, for symbol uploads of hundreds of MB over slow links; the collector has its
    // own idle timeout (`collector.body_timeout`) for clients that stop sending.
    requestTimeout: 600_000,
    bodyLimit: config.collector.max_request_size,
    // API tokens may come as `?token=` (sym_upload): blank them before anything logs a URL.
    // sym_upload v2 sends it as `?key=` on its own paths: renamed `token` first, then blanked alike.
    rewriteUrl: (req) => redactTokenRewriteUrl(acceptSymUploadV2Key(req)),
    // X-Forwarded-For/-Proto are believed from these proxies only (client address, https).
    trustProxy: config.web.trusted_proxies.length > 0 ? config.web.trusted_proxies : false,
  });
  // First, so that every answer has them, even one a hook sends before routing is done.
  await app.register(securityHeadersPlugin);
  await app.register(lingeringClosePlugin, { lingerMs: DEFAULT_LINGER_MS });

  await app.register(serverErrorsPlugin);
  // Idle and slow clients each hold a descriptor: bound them (`web.max_connections`).
  app.server.maxConnections = config.web.max_connections;

  // Every route must say who may call it (`withAccess`): a node with an undeclared route does not start.
  await app.register(routeAccessPlugin);
  const routes: { method: string; url: string; access: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: describeAccess(route.config?.access) });
  });

  // Symbols: the store (uploads), the missing-symbols log and API tokens (web role).
  const symbolStore = buildSymbolStore(config, paths);
  let invalidateSymbols: ((key: { debugFile: string; debugId: string }) => void) | undefined;

  const checks: HealthCheck[] = [
    { name: 'raw_crash_store', check: () => adapters.rawCrashStore.check() },
    { name: 'processed_crash_store', check: () => adapters.processedCrashStore.check() },
    { name: 'queue', check: () => adapters.queue.check() },
    { name: 'crash_index', check: () => adapters.crashIndex.check() },
    { name: 'node_registry', check: () => registry.check() },
  ];
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'mayday_' });
  // Every answer of every role, counted: registered before the routes it measures.
  const webMetrics = new WebMetrics(metrics);
  await app.register(webMetricsPlugin, { metrics: webMetrics });
  checks.push({ name: 'symbol_store', check: () => symbolStore.check() });
  await app.register(healthPlugin, { checks, metrics });
  if (tokens) await app.register(requestAuthPlugin, { tokens, sessions: accounts });
  // After the auth hook (a client is its token or user) and before the routes it limits.
  await app.register(rateLimitsPlugin, { requestsPerMinute: config.web.api_rate_limit });

  const collectorMetrics = roles.has('collector') ? new CollectorMetrics(metrics) : undefined;
  if (roles.has('collector')) {
    const { collector, throttle } = config;
    await app.register(collectorPlugin, {
      rawCrashStore: adapters.rawCrashStore,
      queue: adapters.queue,
      // Crashes stored while the queue failed wait here for the collector's sweeper.
      pending: await FsPendingCrashes.open(join(paths.raw, '.pending'), { fsync: config.storage.fsync }),
      sweepIntervalMs: collector.sweep_interval,
      limits: {
        maxRequestSize: collector.max_request_size,
        maxAnnotations: collector.max_annotations,
        maxAnnotationSize: collector.max_annotation_size,
        maxDumps: collector.max_dumps,
        bodyTimeoutMs: collector.body_timeout,
        minRateBytesPerSecond: collector.min_rate,
        minRateGraceMs: collector.min_rate_grace,
        deadlineMs: collector.request_deadline,
      },
      maxInFlight: collector.max_in_flight,
      throttle: { products: throttle.products, honourThrottleable: throttle.honour_throttleable, rules: throttleRulesFromConfig(throttle.rules) },
      metrics: collectorMetrics,
      fields: backends.fields,
    });
  }
  if (roles.has('web')) {
    await app.register(symbolsPlugin, {
      store: symbolStore,
      missingSymbols,
      queue: adapters.queue,
      stagingDir: symbolStagingDir(config, paths),
      limits: { maxUploadBytes: config.symbols.max_upload_size, maxUncompressedBytes: config.symbols.max_upload_uncompressed, maxFiles: config.symbols.max_upload_files },
      onStored: (key) => invalidateSymbols?.(key),
    });
    await app.register(webPlugin, { ...adapters, fields: backends.fields, sourceLinks: sourceLinkRulesFromConfig(config.source_links.rules), bugLinks: bugLinks!, bugUrlTemplate: config.web.bug_url_template, newBugUrlTemplate: config.web.new_bug_url_template });
    const secureCookies = config.web.public_url?.startsWith('https:') ?? false;
    const sso = singleSignOnFromConfig(config);
    await app.register(accountPagesPlugin, {
      accounts: accounts!,
      tokens,
      secureCookies,
      singleSignOn: sso && { label: sso.label, logoutRedirect: sso.logoutAtProvider ? async () => '/logout/oidc' : undefined },
    });
    if (sso) {
      await app.register(oidcRoutesPlugin, { ...sso, accounts: accounts!, secureCookies });
      const missing = await missingMappedGroups(sso.mapping, accounts!);
      if (missing.length > 0) log.warn({ groups: missing }, 'auth.oidc_group_map names groups that do not exist: single sign-on logins will leave them out');
    }
    await app.register(adminUsersPlugin, { accounts: accounts!, singleSignOn: sso !== undefined });
    await app.register(openApiPlugin, { fields: backends.fields });
    const accountsExist = accountsExistProbe(accounts!, tokens!);
    await app.register(configuratorPagePlugin, { accountsExist });
    await app.register(opsApiPlugin, {
      registry,
      queue: adapters.queue,
      thresholds: { staleAfterMs: config.dashboard.down_after / 2, downAfterMs: config.dashboard.down_after },
      dashboard: config.dashboard,
      streamIntervalMs: 2000,
      accountsExist,
      alerts: alertState,
      history: opsHistory,
      jobs: jobLedger,
    });
    await app.register(dashboardPagePlugin, { accountsExist });
    await app.register(crashApiPlugin, { ...adapters, fields: backends.fields });
    await app.register(reprocessPagePlugin, { rawCrashStore: adapters.rawCrashStore, queue: adapters.queue, crashIndex: adapters.crashIndex, missingSymbols });
    await app.register(stackwalkerOutputPlugin, { processedCrashStore: adapters.processedCrashStore });
    await app.register(reprocessingApiPlugin, { rawCrashStore: adapters.rawCrashStore, queue: adapters.queue, crashIndex: adapters.crashIndex, rulesets: RULESET_NAMES, missingSymbols, fields: backends.fields });
    await app.register(searchApiPlugin, { crashIndex: adapters.crashIndex, fields: backends.fields });
    await app.register(quickSearchPlugin, { crashIndex: adapters.crashIndex });
    await app.register(jobsApiPlugin, { ledger: jobLedger! });
    await app.register(bugApiPlugin, { bugLinks: bugLinks! });
    // The processor's lists: the API answers the signature processing would give.
    const signatureLists = loadLists(config.processor.signature_lists && resolve(paths.dataDir, config.processor.signature_lists));
    await app.register(socorroApiPlugin, { crashIndex: adapters.crashIndex, signatureLists });
    await app.register(statusPlugin, {
      queue: adapters.queue,
      crashIndex: adapters.crashIndex,
      registry,
      sampleIntervalMs: config.web.status_sample_interval,
      nodeTimeoutMs: 3 * config.node.heartbeat_interval,
    });
  }

  let worker: ProcessorWorker | undefined;
  let stackwalkPool: StackwalkPool | undefined;
  // The worker records into them; the heartbeat reads their windows.
  const processorMetrics = roles.has('processor') ? new ProcessorMetrics(metrics) : undefined;
  if (roles.has('processor')) {
    // Stackwalks run in worker threads: a big symbol parse must not hold up the HTTP server.
    const workers = config.processor.workers ?? Math.max(1, availableParallelism());
    stackwalkPool = new StackwalkPool({
      symbols: symbolSourcesOptions(config, paths),
      workers,
      cacheBytes: config.symbols.cache_size,
      negativeTtlMs: config.symbols.negative_cache_ttl,
      memoryLimitBytes: config.processor.worker_memory_limit,
      graceMs: hardLimitGraceMs(config.processor.time_limit),
      onLoadError: (module, message) => log.warn({ err: { message }, debugFile: module.debugFile, debugId: module.debugId }, 'loading symbols failed'),
      onWorkerEnded: (reason) => log.warn({ reason }, 'stackwalk worker thread ended; a new one replaces it'),
    });
    const pool = stackwalkPool;
    invalidateSymbols = (key) => pool.invalidate(key);
    registerSymbolCacheMetrics(metrics, pool);
    worker = new ProcessorWorker({
      ...adapters,
      rulesets: buildRulesets(pool.stackwalk, { signatureListsDir: config.processor.signature_lists && resolve(paths.dataDir, config.processor.signature_lists), missingSymbolsLog: missingSymbols, fields: backends.fields }),
      defaultRuleset: config.processor.ruleset,
      concurrency: config.processor.concurrency ?? 8 * workers,
      pollIntervalMs: config.processor.poll_interval,
      timeLimitMs: config.processor.time_limit,
      maxAttempts: config.processor.max_attempts,
      // A database, storage or queue outage is waited out rather than counted against the crash.
      outage: dependencyOutage,
      metrics: processorMetrics!,
      log: log.child({ role: 'processor' }),
    });
  }

  const address = await app.listen({ host: config.web.host, port: config.web.port });
  const port = (app.server.address() as { port: number }).port;
  const url = config.web.public_url ?? `http://${formatHost(config.web.host)}:${port}`;
  worker?.start();
  // verify-processed is the scheduler's job; a processor without a scheduler beside it on
  // the embedded database (a one-machine node configured before the scheduler role existed)
  // still runs it itself.
  const verifier = worker && !roles.has('scheduler') && config.database.backend === 'sqlite' ? startVerifyProcessed(config, adapters, log) : undefined;
  const scheduler = roles.has('scheduler')
    ? new Scheduler({
        ledger: jobLedger!,
        jobs: scheduledJobs(
          { ...adapters, registry, missingSymbols, jobLedger, alertState, opsHistory },
          { ...schedulerSettings(config), alerts: alertSettings(config.alerts, config.dashboard, `${url}/dashboard`) },
          log.child({ role: 'scheduler' }),
        ),
        owner: `${config.node.name}@${hostname()}:${process.pid}`,
        tickMs: config.scheduler.tick_interval,
        log: log.child({ role: 'scheduler' }),
        metrics,
      })
    : undefined;
  scheduler?.start();
  const fingerprint = configFingerprint(config);
  const heartbeat = new Heartbeat({
    registry,
    identity: { deploymentHost: config.node.host, configHash: fingerprint.hash, config: fingerprint.shared },
    name: config.node.name,
    roles: [...roles],
    url,
    intervalMs: config.node.heartbeat_interval,
    worker,
    collector: collectorMetrics,
    processor: processorMetrics,
    symbolCache: stackwalkPool,
    web: webMetrics,
    prometheus: metrics,
    probes: checks,
    queue: adapters.queue,
    storage: { dataDir: paths.dataDir, database: databaseSize({ pgPool: backends.pgPool, sqliteFile: paths.database }) },
    log,
  });
  await heartbeat.start();
  log.info({ url, roles: [...roles], dataDir: paths.dataDir, address }, 'mayday node started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // In-flight requests get `web.shutdown_timeout` to finish; then their connections
      // are cut (a client that never finishes its body must not hold shutdown forever).
      const forceClose = setTimeout(() => app.server.closeAllConnections(), config.web.shutdown_timeout);
      try {
        await Promise.all([app.close(), worker?.stop()]);
      } finally {
        clearTimeout(forceClose);
      }
      await stackwalkPool?.close();
      if (verifier) clearInterval(verifier);
      await scheduler?.stop();
      await jobLedger?.close();
      await heartbeat.stop();
      await backends.close();
      log.info('mayday node stopped');
    })();
    return closing;
  };
  return { url, metrics, paths, app, routes, worker, stackwalkPool, close, intake: { rawCrashStore: adapters.rawCrashStore, queue: adapters.queue, fields: backends.fields } };
}

/** The scheduler's jobs' settings, from the configuration. */
function schedulerSettings(config: Config): JobSettings {
  const { retention } = config;
  return {
    verifyIntervalMs: config.processor.verify_interval,
    verifyDays: config.processor.verify_days,
    maintenanceIntervalMs: config.scheduler.maintenance_interval,
    retention: {
      days: retention.days,
      protectedDays: retention.protected_days,
      intervalMs: retention.interval,
      products: retention.products.map(({ fields }) => ({
        product: String(fields.product),
        days: typeof fields.days === 'number' ? fields.days : retention.days,
        protectedDays: typeof fields.protected_days === 'number' ? fields.protected_days : retention.protected_days,
      })),
    },
  };
}

/** Runs verify-processed now (so a restart after a power failure catches up) and periodically. */
function startVerifyProcessed(config: Config, adapters: Adapters, log: Logger): NodeJS.Timeout {
  const run = (): void => {
    verifyProcessed({ ...adapters, days: config.processor.verify_days, minimumAgeMs: 60_000, log }).catch((error: unknown) =>
      log.error({ err: error }, 'verify-processed failed'),
    );
  };
  run();
  const timer = setInterval(run, config.processor.verify_interval);
  timer.unref();
  return timer;
}

/** Bad signature lists are an operator's mistake: reported with file and line, not a stack trace. */
function buildRulesets(stackwalk: Stackwalker, options: RulesetOptions): ReturnType<typeof rulesets> {
  try {
    return rulesets(stackwalk, options);
  } catch (error) {
    if (error instanceof SignatureListError) throw new UserError(error.message);
    throw error;
  }
}

function loadLists(dir: string | undefined): ReturnType<typeof loadSignatureLists> {
  try {
    return loadSignatureLists(dir);
  } catch (error) {
    if (error instanceof SignatureListError) throw new UserError(error.message);
    throw error;
  }
}

function formatHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
