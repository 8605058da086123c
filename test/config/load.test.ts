import { describe, expect, it } from 'vitest';
import { envTarget, envVariableName, formatFinding, loadConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { listOptions } from '../../src/config/schema.js';
import { resolvePaths } from '../../src/config/resolve.js';

describe('configuration loading', () => {
  it('gives every option its default without a file', () => {
    const { config, findings } = loadConfig({});
    expect(findings).toEqual([]);
    expect(config?.web.port).toBe(8000);
    expect(config?.node.roles).toEqual(['collector', 'processor', 'web', 'scheduler']);
    expect(config?.queue.visibility_timeout).toBe(300_000);
    expect(config?.web.public_url).toBeUndefined();
  });

  it('parses typed values from the file', () => {
    const text = '[web]\nport = 9000\n[queue]\nvisibility_timeout = 45s\n[collector]\nmax_request_size = 2MB\n[node]\nroles = collector, web\n';
    const { config, findings, origins } = loadConfig({ file: { name: 'node.ini', text } });
    expect(findings).toEqual([]);
    expect(config?.web.port).toBe(9000);
    expect(config?.queue.visibility_timeout).toBe(45_000);
    expect(config?.collector.max_request_size).toBe(2 * 1024 * 1024);
    expect(config?.node.roles).toEqual(['collector', 'web']);
    expect(origins.get('web.port')).toEqual({ kind: 'file', file: 'node.ini', line: 2 });
  });

  it('lists every error as file:line, with suggestions for typos', () => {
    const text = '[web]\nport = eighty\nhots = 0.0.0.0\n[qeue]\npath = x\n[node]\nroles = collector, brewer\n[queue]\nvisibility_timeout = 10\n';
    const { config, findings } = loadConfig({ file: { name: 'bad.ini', text } });
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual([
      'bad.ini:4: error: unknown section [qeue] (did you mean "queue"?)',
      'bad.ini:2: error: web.port: expected an integer, got "eighty"',
      'bad.ini:3: error: unknown option web.hots (did you mean "host"?)',
      'bad.ini:7: error: node.roles: unknown value "brewer" (allowed: collector, processor, web, scheduler)',
      'bad.ini:9: error: queue.visibility_timeout: expected a duration such as 500ms, 30s, 5m, 2h or 7d, got "10"',
    ]);
  });

  it('never repeats a secret option\'s value in an error (a database URL with its password)', () => {
    const text = '[database]\nurl = postgres//mayday:hunter2@db/mayday\n\n[alerts]\nheartbeat_url = hc-ping.com/s3cr3t-token\n';
    const { findings } = loadConfig({ file: { name: 'f.ini', text } });
    expect(findings.map(formatFinding)).toEqual([
      'f.ini:2: error: database.url: expected a URL (postgres, postgresql); the value is not shown, it is secret',
      'f.ini:5: error: alerts.heartbeat_url: expected a URL (http, https); the value is not shown, it is secret',
    ]);
  });

  it('checks ranges', () => {
    const { findings } = loadConfig({ file: { name: 'f.ini', text: '[web]\nport = 70000\n' } });
    expect(findings[0].message).toBe('web.port: must be at most 65535, got 70000');
  });

  it('lets MAYDAY_<SECTION>_<KEY> override the file, and command-line overrides win over both', () => {
    const file = { name: 'f.ini', text: '[web]\nport = 9000\n[queue]\nvisibility_timeout = 1m\n' };
    const env = { MAYDAY_WEB_PORT: '9100', MAYDAY_QUEUE_VISIBILITY_TIMEOUT: '2m', PATH: '/bin' };
    const { config, origins } = loadConfig({ file, env, overrides: { 'web.port': '9200' } });
    expect(config?.web.port).toBe(9200);
    expect(config?.queue.visibility_timeout).toBe(120_000);
    expect(origins.get('queue.visibility_timeout')).toEqual({ kind: 'env', variable: 'MAYDAY_QUEUE_VISIBILITY_TIMEOUT' });
  });

  it('reports bad environment values and warns about unknown MAYDAY_ variables', () => {
    const { config, findings } = loadConfig({ env: { MAYDAY_WEB_PORT: 'x', MAYDAY_WEB_PROT: '1' } });
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual([
      'environment: error: web.port: expected an integer, got "x"',
      'environment: warning: MAYDAY_WEB_PROT names no option (expected MAYDAY_<SECTION>_<KEY>)',
    ]);
  });

  it('maps environment names both ways', () => {
    expect(envVariableName('queue', 'visibility_timeout')).toBe('MAYDAY_QUEUE_VISIBILITY_TIMEOUT');
    expect(envTarget('MAYDAY_QUEUE_VISIBILITY_TIMEOUT')).toEqual({ section: 'queue', key: 'visibility_timeout' });
    expect(envTarget('MAYDAY_NOPE')).toBeUndefined();
  });

  it('resolves relative storage paths against the data directory', () => {
    const { config } = loadConfig({ overrides: { 'node.data_dir': 'data', 'database.path': '/abs/db.sqlite' } });
    const paths = resolvePaths(config!, '/srv');
    expect(paths).toMatchObject({ dataDir: '/srv/data', raw: '/srv/data/raw', queue: '/srv/data/queue.sqlite', database: '/abs/db.sqlite', symbols: ['/srv/data/symbols'] });
  });

  it('is introspectable: every option documented and present in the JSON Schema', () => {
    const schema = configJsonSchema() as { properties: Record<string, { properties: Record<string, { description: string; default?: string }> }> };
    for (const { section, key, spec } of listOptions()) {
      expect(spec.description.length, `${section}.${key}`).toBeGreaterThan(10);
      expect(schema.properties[section].properties[key].description).toBe(spec.description);
      if (spec.default !== undefined) expect(schema.properties[section].properties[key].default).toBe(spec.format(spec.default));
    }
    expect(schema.properties.web.properties.port.default).toBe('8000');
  });

  it('reports a back end chosen without what it needs at the line that chose it, whichever source gives each half', () => {
    const text = '[storage]\nbackend = s3\n[queue]\nbackend = rabbitmq\n[database]\nbackend = postgresql\n';
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text } });
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual([
      'node.ini:2: error: storage.backend = s3 needs storage.s3_bucket',
      'node.ini:6: error: database.backend = postgresql needs database.url',
      'node.ini:4: error: queue.backend = rabbitmq needs queue.url',
    ]);
    // RabbitMQ keeps its bookkeeping in PostgreSQL: on SQLite it is refused.
    const sqlite = loadConfig({ file: { name: 'node.ini', text: '[queue]\nbackend = rabbitmq\nurl = amqp://guest:guest@127.0.0.1:5672\n' } });
    expect(sqlite.findings.map(formatFinding)).toEqual(['node.ini:2: error: queue.backend = rabbitmq keeps its bookkeeping (waiting crashes, attempts, dead letters) in PostgreSQL: set database.backend = postgresql']);
    // The other half from the environment is enough.
    const env = { MAYDAY_STORAGE_S3_BUCKET: 'crashes', MAYDAY_DATABASE_URL: 'postgres://db/mayday', MAYDAY_QUEUE_URL: 'amqp://broker' };
    const complete = loadConfig({ file: { name: 'node.ini', text }, env });
    expect(complete.findings).toEqual([]);
    expect(complete.config?.storage).toMatchObject({ backend: 's3', s3_bucket: 'crashes', s3_prefix: '', s3_force_path_style: true });
    expect(complete.config?.queue).toMatchObject({ backend: 'rabbitmq', url: 'amqp://broker', prefix: 'mayday.', prefetch: 16 });
    expect(complete.config?.database).toMatchObject({ backend: 'postgresql', url: 'postgres://db/mayday', pool_size: 10, statement_timeout: 30_000 });
    // The embedded default needs none of it.
    expect(loadConfig({}).findings).toEqual([]);
  });
  it('one mistake, one finding: a needed option given but unreadable is not also reported as missing', () => {
    const text = '[database]\nbackend = postgresql\nurl = postgres//broken\n';
    const { config, findings } = loadConfig({ file: { name: 'node.ini', text } });
    expect(config).toBeUndefined();
    expect(findings.map(formatFinding)).toEqual(['node.ini:3: error: database.url: expected a URL (postgres, postgresql); the value is not shown, it is secret']);

    // Every requirement whose needed option can fail to parse: only the value's own error.
    const cases: [string, Record<string, string>, string[]][] = [
      ['[queue]\nbackend = rabbitmq\nurl = amqp//broker\n[database]\nbackend = postgresql\nurl = postgres://db/mayday\n', {}, ['node.ini:3: error: queue.url: expected a URL (amqp, amqps); the value is not shown, it is secret']],
      [
        '[queue]\nbackend = rabbitmq\nurl = amqp://broker\n[database]\nbackend = postgres\n',
        {},
        ['node.ini:5: error: database.backend: expected one of sqlite, postgresql, got "postgres"'],
      ],
      [
        '[auth]\noidc_issuer = https://sso.example.org/realms/acme\noidc_client_id = mayday\n[web]\npublic_url = crash-stats.example.org\n',
        {},
        ['node.ini:5: error: web.public_url: expected a URL (http, https), got "crash-stats.example.org"'],
      ],
      // The unreadable half may come from the environment too.
      ['[database]\nbackend = postgresql\n', { MAYDAY_DATABASE_URL: 'postgres//broken' }, ['environment: error: database.url: expected a URL (postgres, postgresql); the value is not shown, it is secret']],
    ];
    for (const [fileText, env, expected] of cases) expect(loadConfig({ file: { name: 'node.ini', text: fileText }, env }).findings.map(formatFinding), fileText).toEqual(expected);

    // A readable value from the environment meets the need; the file's unreadable line stays an error of its own.
    expect(loadConfig({ file: { name: 'node.ini', text }, env: { MAYDAY_DATABASE_URL: 'postgres://db/mayday' } }).findings.map(formatFinding)).toEqual([
      'node.ini:3: error: database.url: expected a URL (postgres, postgresql); the value is not shown, it is secret',
    ]);
    // Not given at all is still missing.
    expect(loadConfig({ file: { name: 'node.ini', text: '[database]\nbackend = postgresql\n' } }).findings.map(formatFinding)).toEqual(['node.ini:2: error: database.backend = postgresql needs database.url']);
  });
});
