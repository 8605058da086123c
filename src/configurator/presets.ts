/**
 * Ready-made deployments, written by `mayday config init` and offered by the web tool as a
 * starting point. Both validate clean; the distributed one is the deployment of
 * `examples/distributed/` (a test keeps the two identical), which the multi-process tests run.
 */

import { formatIni } from '../config/ini.js';
import type { DeploymentFile } from './deployment.js';

export const PRESETS = ['all-in-one', 'distributed'] as const;
export type Preset = (typeof PRESETS)[number];

type Section = Parameters<typeof formatIni>[0][number];

export function presetFiles(preset: Preset, hosts: readonly string[] = []): DeploymentFile[] {
  return preset === 'all-in-one' ? allInOne(hosts[0]) : distributed(hosts);
}

function allInOne(host: string | undefined): DeploymentFile[] {
  const sections: Section[] = [
    {
      name: 'node',
      comment: 'mayday.ini: every role in one process, on embedded storage (SQLite, local files).\nStart it with: mayday run --config mayday.ini',
      entries: [
        { key: 'name', value: 'mayday' },
        ...(host ? [{ key: 'host', value: host }] : []),
        { key: 'roles', value: 'collector, processor, web, scheduler' },
        { key: 'data_dir', value: './var' },
      ],
    },
    {
      name: 'web',
      comment: 'Listen on 0.0.0.0 to take crash reports from other machines (create accounts first: mayday users create).',
      entries: [
        { key: 'host', value: '127.0.0.1' },
        { key: 'port', value: '8000' },
      ],
    },
    RETENTION,
  ];
  return [{ name: 'mayday.ini', text: `${formatIni(sections)}\n${alertsText(ALL_IN_ONE_ALERTS)}` }];
}

/**
 * Raw crashes (the dumps and the annotations as sent, where personal data lives) are not
 * kept forever; processed crashes are, as by default. Read by the scheduler role only.
 */
const RETENTION: Section = {
  name: 'retention',
  comment: 'Raw crashes (dumps and annotations as sent: where URLs, e-mail addresses and comments live) go after 90 days;\nprocessed crashes stay searchable (days = 0 keeps them forever).',
  entries: [{ key: 'protected_days', value: '90' }],
};

/**
 * Default alert rules, so that a fresh deployment's Dashboard shows what would page. Nothing
 * is sent until the operator sets a webhook: `[alerts]` only shows it, commented out. Read
 * by the scheduler role only, so written in the scheduler's file.
 */
interface AlertsPlan {
  /** Why these rules and not others (the comment above `[alerts]`). */
  readonly note: string;
  readonly rules: readonly Section[];
}

const rule = (name: string, why: string, fields: Record<string, string>): Section => ({
  name: `alerts.rules.${name}`,
  comment: why,
  entries: Object.entries(fields).map(([key, value]) => ({ key, value })),
});

const QUEUE_AGE = rule('queue_age', 'A new crash has waited over 10 minutes to be processed (reprocessing batches may take longer): processors stopped, stuck or too few.', {
  kind: 'queue_age',
  queue: 'priority, standard',
  threshold: '600',
  severity: 'warning',
});
const FAILURE_RATE = rule('failure_rate', 'Over 10% of a processor\'s crashes failed in 15 minutes: symbols, storage or the stackwalker\'s limits.', {
  kind: 'failure_rate',
  threshold: '10',
  window: '15m',
  severity: 'warning',
});
const JOB_FAILED = rule('job_failed', 'A housekeeping job failed (retention, verify-processed, ...): old data piles up or lost queue entries stay lost.', { kind: 'job_failed', severity: 'warning' });
const DEPENDENCY_UNREACHABLE = rule('dependency_unreachable', 'The database, the queue or a store unreachable for a minute (not one failed probe): crashes are not stored or not processed.', {
  kind: 'dependency_unreachable',
  for: '1m',
  severity: 'critical',
});

const ALL_IN_ONE_ALERTS: AlertsPlan = {
  note: 'No node_down rule: this node evaluates the rules itself, so it cannot report its own stop (the heartbeat_url below can).',
  rules: [QUEUE_AGE, FAILURE_RATE, JOB_FAILED, DEPENDENCY_UNREACHABLE],
};

const DISTRIBUTED_ALERTS: AlertsPlan = {
  note: 'They watch every node of the deployment, whichever host it runs on.',
  rules: [
    rule('node_down', 'A node has sent no heartbeat for dashboard.down_after (30 s): crashed, hung or cut off from the database.', { kind: 'node_down', severity: 'critical' }),
    rule('nodes_below', 'No collector or no processor running for 2 minutes: a node stopped cleanly leaves the registry, which node_down does not see.', {
      kind: 'nodes_below',
      role: 'collector, processor',
      threshold: '1',
      for: '2m',
      severity: 'critical',
    }),
    QUEUE_AGE,
    FAILURE_RATE,
    JOB_FAILED,
    DEPENDENCY_UNREACHABLE,
  ],
};

/**
 * `[alerts]` with its notification settings commented out (formatIni writes no commented
 * entry, and a commented example above the header would, uncommented, land in the section
 * before), then the rules.
 */
function alertsText(plan: AlertsPlan): string {
  const header = [
    '; Alerts: the rules below are evaluated every 10 s and shown on the Operations Dashboard (its Alerts panel).',
    `; ${plan.note}`,
    '; Nothing is sent until webhook_urls is set: a secret, so keep this file private or give MAYDAY_ALERTS_WEBHOOK_URLS instead.',
    '[alerts]',
    '; webhook_urls = https://hooks.slack.com/services/T000/B000/XXXX',
    '; format = slack',
    '; A dead-man\'s switch, a push monitor that pages when the pings stop (healthchecks.io, Dead Man\'s Snitch, Uptime Kuma):',
    '; heartbeat_url = https://hc-ping.com/YOUR-CHECK-UUID',
  ].join('\n');
  return `${header}\n\n${formatIni(plan.rules)}`;
}

interface NodePlan {
  file: string;
  name: string;
  roles: string;
  port: number;
  comment: string;
}

const DISTRIBUTED_NODES: readonly NodePlan[] = [
  { file: 'collector.ini', name: 'collector', roles: 'collector', port: 8101, comment: 'takes crash reports (put a load balancer in front of one or more)' },
  { file: 'processor-1.ini', name: 'processor-1', roles: 'processor', port: 8111, comment: 'stackwalks and signs crashes (its port serves health and metrics only)' },
  { file: 'processor-2.ini', name: 'processor-2', roles: 'processor', port: 8112, comment: 'a second processor: they share the queue' },
  { file: 'web.ini', name: 'web', roles: 'web', port: 8100, comment: 'Crash Stats, the API, symbol uploads, the Configurator and the Dashboard' },
  { file: 'scheduler.ini', name: 'scheduler', roles: 'scheduler', port: 8121, comment: 'housekeeping jobs (one per deployment)' },
];

/**
 * The services every node shares. With hosts given they are taken to run on the first
 * host; without, on this machine (the example's MinIO on port 9000).
 */
function distributed(hosts: readonly string[]): DeploymentFile[] {
  const services = hosts[0] ?? '127.0.0.1';
  const common: Section[] = [
    {
      name: 'database',
      comment:
        'common.ini: the settings every node of this deployment shares, included by each node file.\n' +
        'Secrets are written here for the example: in production give them in the environment\n' +
        '(MAYDAY_DATABASE_URL, MAYDAY_QUEUE_URL, MAYDAY_STORAGE_S3_SECRET_ACCESS_KEY, ...) and keep this file private.',
      entries: [
        { key: 'backend', value: 'postgresql' },
        { key: 'url', value: `postgres://mayday:mayday@${services}:5432/mayday` },
        { key: 'pool_size', value: '5' },
      ],
    },
    {
      name: 'queue',
      entries: [
        { key: 'backend', value: 'rabbitmq' },
        { key: 'url', value: `amqp://guest:guest@${services}:5672` },
        { key: 'prefix', value: 'mayday.' },
      ],
    },
    {
      name: 'storage',
      entries: [
        { key: 'backend', value: 's3' },
        { key: 's3_bucket', value: 'mayday-crashes' },
        { key: 's3_endpoint', value: `http://${services}:9000` },
        { key: 's3_access_key_id', value: 'mayday' },
        { key: 's3_secret_access_key', value: 'mayday-secret' },
      ],
    },
    {
      name: 'symbols',
      entries: [
        { key: 'store', value: 's3' },
        { key: 's3_bucket', value: 'mayday-symbols' },
        { key: 's3_endpoint', value: `http://${services}:9000` },
        { key: 's3_access_key_id', value: 'mayday' },
        { key: 's3_secret_access_key', value: 'mayday-secret' },
      ],
    },
  ];
  const files: DeploymentFile[] = [{ name: 'common.ini', text: formatIni(common), mode: 0o600 }];
  DISTRIBUTED_NODES.forEach((plan, index) => {
    // Spread over the hosts: web and collector first, so that a single host gets them all.
    const host = hosts.length > 0 ? hosts[index % hosts.length] : undefined;
    const sections: Section[] = [
      {
        name: 'node',
        comment: `${plan.file}: ${plan.comment}.\nStart it with: mayday run --config ${plan.file}`,
        entries: [
          { key: 'name', value: plan.name },
          ...(host ? [{ key: 'host', value: host }] : []),
          { key: 'roles', value: plan.roles },
          { key: 'data_dir', value: `./var/${plan.name}` },
        ],
      },
      {
        name: 'web',
        // On several hosts a node listens on its own host's address so that the others
        // (and the load balancer) reach it; on one machine, on loopback.
        entries: [
          { key: 'host', value: host ?? '127.0.0.1' },
          { key: 'port', value: String(plan.port) },
        ],
      },
      // Only the scheduler reads [retention] and [alerts]: they are written in its file, not in common.ini.
      ...(plan.roles.includes('scheduler') ? [RETENTION] : []),
    ];
    const alerts = plan.roles.includes('scheduler') ? `\n${alertsText(DISTRIBUTED_ALERTS)}` : '';
    files.push({ name: plan.file, text: `include = common.ini\n\n${formatIni(sections)}${alerts}` });
  });
  return files;
}
