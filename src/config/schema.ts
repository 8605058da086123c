import { ipVersion } from './ip.js';
import { CUSTOM_FIELD_TYPES, customFieldNameProblem } from '../schema/field-catalog.js';
import { oidcGroupMap, oidcScopes } from './oidc-options.js';
import { boolean, duration, integer, list, oneOf, optional, path, regex, rules, size, string, url, type OptionSpec } from './option-types.js';

/**
 * Every option of every Mayday node, declared once. The loader, `config validate`,
 * `config explain`, `docs/configuration.md` and the JSON Schema all read this table, so a
 * new option is added here and nowhere else.
 *
 * Relative paths are resolved against `node.data_dir`.
 */
export const ROLES = ['collector', 'processor', 'web', 'scheduler'] as const;

/** A list of IP addresses and CIDR blocks, or proxy-addr's names for ranges (what Fastify's `trustProxy` takes). */
function addressList(options: { description: string; default: string[] }): OptionSpec<string[]> {
  const spec = list(options);
  const valid = (item: string): boolean => {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
    const [address = '', prefix, ...rest] = item.split('/');
    const version = ipVersion(address);
    return version !== 0 && rest.length === 0 && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)));
  };
  return {
    ...spec,
    parse(raw) {
      const items = spec.parse(raw);
      const bad = items.filter((item) => !valid(item));
      if (bad.length > 0) throw new Error(`not an IP address or CIDR block: ${bad.map((b) => `"${b}"`).join(', ')}`);
      return items;
    },
  };
}
export type Role = (typeof ROLES)[number];

/** A list of http(s) URLs (alert webhooks). */
function urlList(options: { description: string; default: string[]; secret?: boolean }): OptionSpec<string[]> {
  const spec = list(options);
  const item = url({ description: options.description, protocols: ['http', 'https'] });
  return {
    ...spec,
    parse(raw) {
      const items = spec.parse(raw);
      for (const [index, value] of items.entries()) {
        try {
          item.parse(value);
        } catch (error) {
          // The URL itself is not repeated: webhook URLs carry their tokens.
          throw new Error(`item ${index + 1}: ${(error as Error).message.replace(/, got ".*"$/s, '')}`);
        }
      }
      return items;
    },
  };
}

/**
 * A link template (`web.bug_url_template`, `web.new_bug_url_template`): an http(s) URL with
 * `{name}` placeholders from `placeholders`, the `required` ones present; any other `{name}`
 * is refused, so a typo stops start-up instead of producing dead links.
 */
function urlTemplate(options: { description: string; placeholders: readonly string[]; required: readonly string[] }): OptionSpec<string | undefined> {
  const item = url({ description: options.description, protocols: ['http', 'https'] });
  return optional({
    ...item,
    parse(raw) {
      const names = [...raw.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
      const unknown = names.filter((n) => !options.placeholders.includes(n));
      if (unknown.length > 0) throw new Error(`unknown placeholder {${unknown[0]}}; this template may use ${options.placeholders.map((p) => `{${p}}`).join(', ')}`);
      const missing = options.required.filter((n) => !names.includes(n));
      if (missing.length > 0) throw new Error(`the template must contain {${missing[0]}}, got "${raw}"`);
      item.parse(raw.replace(/\{[^{}]*\}/g, 'x'));
      return raw;
    },
  });
}

export const SCHEMA = {
  node: {
    name: string({ description: 'Name of this node, shown in logs and on the Operations Dashboard.', default: 'mayday', pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, patternHint: 'letters, digits, "_", "." and "-"' }),
    roles: list({ description: 'The roles this node runs.', default: [...ROLES], values: ROLES, unique: true }),
    host: optional(string({ description: 'The machine this node runs on, as the deployment\'s other nodes reach it (a host name or address). The Configurator groups nodes by it and checks that host-local storage (files, SQLite, the embedded queue) is not shared across machines; unset means the machine that runs the node (every node without it is taken to run on one machine).', pattern: /^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/, patternHint: 'a host name or an IP address' })),
    data_dir: path({ description: 'Directory for embedded storage (raw and processed crashes, SQLite databases). Relative paths elsewhere in the file are resolved against it.', default: './var' }),
    heartbeat_interval: duration({ description: 'How often this node reports itself and its counters to the node registry (read by /status and the Dashboard). A node silent for three intervals is taken for gone.', default: 10_000, min: 100 }),
  },
  web: {
    host: string({ description: 'Address the HTTP server listens on. Use 0.0.0.0 to accept crash reports from other machines.', default: '127.0.0.1' }),
    port: integer({ description: 'TCP port of the HTTP server (collector and web app share it).', default: 8000, min: 0, max: 65535 }),
    public_url: optional(url({ description: 'URL at which users and clients reach this node; used in printed instructions. Defaults to http://HOST:PORT.', protocols: ['http', 'https'] })),
    shutdown_timeout: duration({ description: 'How long shutdown waits for in-flight requests before closing connections.', default: 10_000, min: 0 }),
    status_sample_interval: duration({ description: 'How often the web role records a point of the processing status history (/status graphs).', default: 60_000, min: 100 }),
    trusted_proxies: addressList({ description: 'Reverse proxies (TLS terminators, load balancers) whose X-Forwarded-For and X-Forwarded-Proto headers are believed: IP addresses or CIDR blocks, or loopback, linklocal, uniquelocal. A request from one of them is taken to come from the client it names (login throttling, rate limits, logs) and over https when it says so (the session cookie is then Secure). Empty trusts none: the headers are ignored.', default: [] }),
    max_connections: integer({ description: 'Most TCP connections the HTTP server holds open at once (every role on the node shares them); further ones are closed at once. Bounds the file descriptors and memory idle or slow clients can take; put a reverse proxy in front for per-client limits (docs/deployment.md).', default: 1024, min: 1 }),
    api_rate_limit: integer({ description: 'Requests per minute one client may make to the API (/api/...) and the Crash Stats pages that query the crash index (home, top crashers, signature, Super Search, report, missing symbols); more get 429 with Retry-After. A client is its API token, else its signed-in user, else its address (behind a reverse proxy, list the proxy in web.trusted_proxies, or every anonymous client counts as the proxy). 0 turns the limit off. /submit and the health endpoints are never limited.', default: 600, min: 0, max: 1_000_000 }),
    bug_url_template: urlTemplate({ description: 'Link to a bug in the team\'s tracker, {bug} standing for the bug id as linked to a signature (URL-encoded, except "/" and ":", which trackers use inside ids). GitHub: https://github.com/ORG/REPO/issues/{bug}; GitLab: https://gitlab.com/GROUP/PROJECT/-/issues/{bug}; Jira: https://ORG.atlassian.net/browse/{bug}; Bugzilla: https://bugzilla.example.org/show_bug.cgi?id={bug}. Unset: bug ids are shown as plain text.', placeholders: ['bug'], required: ['bug'] }),
    new_bug_url_template: urlTemplate({ description: 'Link that files a new bug from a signature page, prefilled: {title} (the signature), {body} (crash counts, top frames, a link back to the signature page), {signature}; each URL-encoded where it is substituted. GitHub: https://github.com/ORG/REPO/issues/new?title={title}&body={body}; GitLab: https://gitlab.com/GROUP/PROJECT/-/issues/new?issue[title]={title}&issue[description]={body}; Jira: https://ORG.atlassian.net/secure/CreateIssueDetails!init.jspa?pid=PROJECT_ID&issuetype=1&summary={title}&description={body}; Bugzilla: https://bugzilla.example.org/enter_bug.cgi?product=PRODUCT&short_desc={title}&comment={body}. Unset: no "file a bug" link.', placeholders: ['title', 'body', 'signature'], required: [] }),
  },
  auth: {
    oidc_issuer: optional(url({ description: 'Single sign-on: the OpenID Connect issuer (the provider\'s discovery document is ISSUER/.well-known/openid-configuration), e.g. https://keycloak.example.org/realms/acme, https://accounts.google.com, https://login.microsoftonline.com/TENANT/v2.0. Set, the login page offers "Sign in with oidc_button_label" beside the local login (docs/authentication.md); it needs web.public_url and oidc_client_id. The provider is asked at the first login, not at start-up, so an outage of it does not stop the node.', protocols: ['http', 'https'] })),
    oidc_client_id: optional(string({ description: 'The client id Mayday was registered with at the provider. Register the redirect URI PUBLIC_URL/login/oidc/callback.' })),
    oidc_client_secret: optional(string({ description: 'The client secret (a confidential client, sent with HTTP Basic authentication). Unset: a public client, which proves itself with PKCE only.', secret: true })),
    oidc_scopes: oidcScopes({ description: 'Scopes asked for, comma- or space-separated; must include openid. Add the provider\'s scope for group claims if it has one (e.g. groups).', default: ['openid', 'profile', 'email'] }),
    oidc_username_claim: string({ description: 'The ID token (or userinfo) claim that names a new user; when the provider does not send it, the subject (sub) is used. Users are matched by the provider\'s subject afterwards, so a renamed person keeps their account.', default: 'preferred_username', pattern: /^[A-Za-z0-9_.:/-]{1,100}$/, patternHint: 'a claim name' }),
    oidc_groups_claim: string({ description: 'The claim holding the person\'s groups or roles at the provider (a list of strings, or one string), read from the ID token, else from userinfo. A dotted path reaches a nested claim (Keycloak client roles: resource_access.mayday.roles).', default: 'groups', pattern: /^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$/, patternHint: 'a claim name, or a dotted path' }),
    oidc_group_map: oidcGroupMap({ description: 'Which provider group makes a person a member of which Mayday group: items CLAIM_VALUE=GROUP (split at the last "="), e.g. /mayday/admins=admins, mayday-devs=hackers. Set, a single sign-on user\'s groups are replaced at every login by those their claim maps to (one value may map to several groups; groups that do not exist are logged and left out), so the provider is the source of truth and group changes on the admin page last until the next login. Empty: single sign-on leaves groups alone (set them on /admin/users or with mayday users).', default: [] }),
    oidc_create_users: boolean({ description: 'Whether a person the provider vouches for gets an account at their first login. Off: only people with an account already (made on /admin/users or with mayday users create NAME, without a password) may sign in.', default: true }),
    oidc_button_label: string({ description: 'Who the login page\'s single sign-on button names: "Sign in with LABEL".', default: 'SSO', pattern: /^[^<>\n]{1,60}$/, patternHint: 'up to 60 characters' }),
    oidc_logout_at_provider: boolean({ description: 'Whether logging out of Mayday offers to sign out of the provider too: logout then shows a page with a link to the provider\'s logout (RP-initiated logout, when its discovery document has an end_session_endpoint; register PUBLIC_URL/ as a post-logout redirect URI). Off: logout ends the Mayday session only and goes to the home page.', default: false }),
  },
  collector: {
    max_request_size: size({ description: 'Largest accepted submission body, compressed as sent and again after gzip decompression (so a gzip bomb is cut off); larger ones get 413.', default: 25 * 1024 * 1024, min: 1024 }),
    max_annotations: integer({ description: 'Most annotations one submission may carry (form fields plus the keys of a JSON "extra" field); more get 413.', default: 500, min: 1, max: 100_000 }),
    max_annotation_size: size({ description: 'Largest value of one annotation (the whole "extra" field counts as one); a larger one gets 413.', default: 1024 * 1024, min: 64 }),
    max_dumps: integer({ description: 'Most dump (file) parts one submission may carry; more get 413.', default: 20, min: 1, max: 1000 }),
    body_timeout: duration({ description: 'A client that sends no byte of its body for this long is answered 408 and its partial crash removed.', default: 30_000, min: 100 }),
    min_rate: size({ description: 'Lowest average rate of a submission body, in bytes per second as sent, once min_rate_grace has passed; a slower client (one trickling a byte now and then is never idle) is answered 408 Discarded=too_slow and its partial crash removed. 0 turns the check off.', default: 1024, min: 0 }),
    min_rate_grace: duration({ description: 'How long a submission may take before min_rate applies (connection set-up, a slow start).', default: 30_000, min: 0 }),
    request_deadline: duration({ description: 'Longest time to receive one submission body, however fast it arrives; longer ones are answered 408 Discarded=deadline.', default: 5 * 60_000, min: 100 }),
    max_in_flight: integer({ description: 'Most submissions received at once by this node; more are answered 503 with Retry-After before their body is read, so that slow clients cannot take every slot.', default: 256, min: 1 }),
    sweep_interval: duration({ description: 'How often crashes that were stored but could not be queued (queue errors) are queued again; also done at start-up.', default: 30_000, min: 100 }),
  },
  throttle: {
    products: list({ description: 'Products accepted (ProductName, after normalisation); crashes of others are rejected as unsupported_product. Empty accepts every product.', default: [] }),
    honour_throttleable: boolean({ description: 'A crash with the annotation Throttleable=0 is accepted before any rule is tried (the product list still applies).', default: true }),
    rules: rules({
      description:
        'Ordered throttle rules, one [throttle.rules.NAME] section each, tried in file order; the first that matches decides. A rule matches when all of its conditions hold. With none matching, a crash is accepted.',
      default: [],
      ruleFields: {
        fields: {
          action: oneOf(['accept', 'defer', 'reject'] as const, { description: 'What a match does: accept (store and queue), defer (store, do not queue), reject (answer Discarded=NAME, store nothing).', required: true }),
          product: list({ description: 'Matches when ProductName is one of these.' }),
          version: regex({ description: 'Matches when Version matches this regular expression (anchor it with ^ and $ for a whole match).' }),
          channel: list({ description: 'Matches when ReleaseChannel is one of these.' }),
          sample: integer({ description: 'Percentage of matching crashes the action applies to; the others go on to the next rules.', min: 0, max: 100 }),
        },
        families: {
          annotation: regex({ description: 'annotation.NAME = REGEX matches when annotation NAME is present and matches REGEX.' }),
        },
      },
    }),
  },
  storage: {
    backend: oneOf(['fs', 's3'] as const, { description: 'Where raw and processed crashes are kept: "fs" is the local filesystem (one host); "s3" is an S3-compatible bucket (`s3_*` options), shared by collectors and processors on many hosts, in Socorro\'s key layout (v1/raw_crash/YYYYMMDD/ID, v1/dump_names/ID, v1/DUMP/ID, v1/processed_crash/ID).', default: 'fs' }),
    raw_path: path({ description: 'Directory of raw crashes (annotations and dumps), partitioned by submission date (backend = fs).', default: 'raw' }),
    processed_path: path({ description: 'Directory of processed crashes, partitioned by submission date (backend = fs).', default: 'processed' }),
    fsync: boolean({ description: 'Flush each raw crash to disk before acknowledging it (backend = fs). Turning this off risks losing acknowledged crashes on power loss.', default: true }),
    s3_bucket: optional(string({ description: 'Bucket of raw and processed crashes when backend = s3.' })),
    s3_prefix: string({ description: 'Key prefix inside the bucket (before "v1/"), e.g. "crashes/".', default: '' }),
    s3_endpoint: optional(url({ description: 'Endpoint of an S3-compatible server (MinIO, Ceph); AWS when unset.', protocols: ['http', 'https'] })),
    s3_region: string({ description: 'Region of the bucket.', default: 'us-east-1' }),
    s3_access_key_id: optional(string({ description: 'Access key id; when unset the AWS SDK\'s default credential chain (environment, profile, instance role) is used.', secret: true })),
    s3_secret_access_key: optional(string({ description: 'Secret access key matching s3_access_key_id.', secret: true })),
    s3_force_path_style: boolean({ description: 'Address the bucket as ENDPOINT/BUCKET (most self-hosted servers need this) instead of BUCKET.ENDPOINT.', default: true }),
  },
  queue: {
    backend: oneOf(['sqlite', 'rabbitmq'] as const, { description: 'Processing queue back end: "sqlite" is an embedded durable queue (one host); "rabbitmq" is a RabbitMQ broker (`url`), with its bookkeeping (waiting crashes, attempts, dead letters) in the PostgreSQL database, so it needs database.backend = postgresql.', default: 'sqlite' }),
    path: path({ description: 'SQLite file of the embedded queue (backend = sqlite).', default: 'queue.sqlite' }),
    url: optional(url({ description: 'AMQP URL of the RabbitMQ broker when backend = rabbitmq, e.g. amqp://user:password@host:5672/vhost.', protocols: ['amqp', 'amqps'], secret: true })),
    prefix: string({ description: 'Prefix of the RabbitMQ queue names (PREFIXpriority, PREFIXstandard, PREFIXreprocessing), so that several deployments can share a broker.', default: 'mayday.' }),
    prefetch: integer({ description: 'Crashes a processor holds from RabbitMQ before acknowledging (the consumer prefetch).', default: 16, min: 1, max: 1000 }),
    fsync: boolean({ description: 'Flush the queue database to disk on every commit. Off by default: an accepted crash is made durable by the raw crash store before the client is answered, and a queue entry lost to a power failure is put back by the processor\'s verify-processed job; the queue then costs the collector no fsync per crash.', default: false }),
    visibility_timeout: duration({ description: 'A crash taken by a processor and not acknowledged within this time is handed out again.', default: 5 * 60_000, min: 1000 }),
  },
  database: {
    backend: oneOf(['sqlite', 'postgresql'] as const, { description: 'Crash index and metadata database (node registry, accounts and tokens, missing symbols, queue bookkeeping): "sqlite" is embedded (one host); "postgresql" is a PostgreSQL server (`url`), shared by every node.', default: 'sqlite' }),
    path: path({ description: 'SQLite file of the crash index (backend = sqlite).', default: 'mayday.sqlite' }),
    url: optional(url({ description: 'Connection URL when backend = postgresql, e.g. postgres://mayday:password@db:5432/mayday.', protocols: ['postgres', 'postgresql'], secret: true })),
    schema: optional(string({ description: 'PostgreSQL schema of Mayday\'s tables (created if missing), so that several deployments can share a database; the connection\'s search_path when unset.', pattern: /^[a-z_][a-z0-9_]*$/, patternHint: 'lower-case letters, digits and "_", not starting with a digit' })),
    pool_size: integer({ description: 'Connections each node keeps to PostgreSQL at most (all its stores share them).', default: 10, min: 1, max: 200 }),
    statement_timeout: duration({ description: 'Longest time one PostgreSQL statement may run before the server cancels it.', default: 30_000, min: 100 }),
  },
  processor: {
    workers: optional(integer({ description: 'Worker threads that stackwalk (and parse symbols) for this node, each with its share of symbols.cache_size. Default: the number of CPUs.', min: 1, max: 256 })),
    concurrency: optional(integer({ description: 'Crashes processed at the same time by this node. Default: 8 per worker thread (processor.workers): a crash in hand spends most of its time waiting for the disk (reading the raw crash, writing the processed one durably), so it takes several to keep every worker busy.', min: 1, max: 1024 })),
    worker_memory_limit: size({ description: 'Memory limit of one stackwalk worker thread: its JavaScript heap is capped at this size (a thread that goes over is ended), and a symbol file bigger than half of it is not parsed. A crash that hits it is saved as failed with a note.', default: 2 * 1024 ** 3, min: 64 * 1024 ** 2 }),
    poll_interval: duration({ description: 'How often an idle processor asks the queue for work (in-process submissions wake it at once).', default: 1000, min: 10 }),
    time_limit: duration({ description: 'Longest time one crash may take; a crash over it is saved as failed with a note and not retried. The stackwalker stops at it; a walk still running a tenth of it later (at least 1 s, at most 30 s) has its worker thread ended.', default: 60_000, min: 100 }),
    max_attempts: integer({ description: 'Attempts at a crash whose processing keeps failing (errors other than an outage of the database, storage or queue, which are waited out) before it goes to the dead letters.', default: 5, min: 1, max: 100 }),
    signature_lists: optional(path({ description: 'Directory of signature lists (sentinel.txt, irrelevant.txt, prefix.txt, line-number.txt) replacing the built-in ones file by file; see docs/signatures.md. A list with a bad regular expression stops start-up.' })),
    verify_interval: duration({ description: 'How often the verify-processed job checks that every accepted crash of the last days is processed or queued (and queues those that are not). Run by the scheduler role (and, on a node with the processor role, no scheduler role and the embedded database, by the processor itself).', default: 600_000, min: 1000 }),
    verify_days: integer({ description: 'How many days back (today included) the verify-processed check looks.', default: 2, min: 1, max: 90 }),
    ruleset: oneOf(['default'] as const, { description: 'Ruleset for crashes from the collector (reprocessing may ask for another, such as "signature").', default: 'default' }),
  },
  symbols: {
    store: oneOf(['fs', 's3'] as const, { description: 'Where uploaded symbols are kept and searched first: "fs" is the first directory of `paths`; "s3" is an S3-compatible bucket (`s3_*` options).', default: 'fs' }),
    paths: list({ description: 'Directories of Breakpad symbols in the DEBUG_FILE/DEBUG_ID/DEBUG_FILE.sym layout, searched in order after the store. With store = fs, uploads go to the first one.', default: ['symbols'] }),
    upstream_urls: list({ description: 'Breakpad symbol servers (same URL layout) searched in order after the local directories, e.g. https://symbols.mozilla.org/.', default: [] }),
    upstream_cache_path: path({ description: 'Directory where files fetched from upstream symbol servers are cached (and misses remembered).', default: 'symbols-cache' }),
    upstream_timeout: duration({ description: 'Longest time one request to an upstream symbol server may take; a timeout is retried by the next lookup, not remembered as a miss.', default: 30_000, min: 100 }),
    negative_cache_ttl: duration({ description: 'How long "no symbols for this module" is remembered (in memory, and on disk for upstream servers) before looking again.', default: 3_600_000, min: 0 }),
    cache_size: size({ description: 'Memory budget of the parsed-symbol cache.', default: 512 * 1024 * 1024, min: 1024 * 1024 }),
    max_upload_size: size({ description: 'Largest symbol upload request body (a zip or a sym_upload form); larger ones get 413.', default: 2 * 1024 ** 3, min: 1024 }),
    max_upload_uncompressed: size({ description: 'Largest total size of the files one upload expands to (guards against zip bombs); over it gets 413.', default: 8 * 1024 ** 3, min: 1024 }),
    max_upload_files: integer({ description: 'Most .sym files in one upload.', default: 20_000, min: 1 }),
    s3_bucket: optional(string({ description: 'Bucket of the symbol store when store = s3.' })),
    s3_prefix: string({ description: 'Key prefix inside the bucket, e.g. "symbols/".', default: '' }),
    s3_endpoint: optional(url({ description: 'Endpoint of an S3-compatible server (MinIO, Ceph); AWS when unset.', protocols: ['http', 'https'] })),
    s3_region: string({ description: 'Region of the bucket.', default: 'us-east-1' }),
    s3_access_key_id: optional(string({ description: 'Access key id; when unset the AWS SDK\'s default credential chain (environment, profile, instance role) is used.', secret: true })),
    s3_secret_access_key: optional(string({ description: 'Secret access key matching s3_access_key_id.', secret: true })),
    s3_force_path_style: boolean({ description: 'Address the bucket as ENDPOINT/BUCKET (most self-hosted servers need this) instead of BUCKET.ENDPOINT.', default: true }),
  },
  scheduler: {
    tick_interval: duration({ description: 'How often the scheduler looks for due jobs. A job is due its interval after its last run ended, whichever scheduler ran it; runs are recorded in the database (see /api/ops/jobs).', default: 10_000, min: 100 }),
    maintenance_interval: duration({ description: 'How often the housekeeping jobs run: index-maintenance (next days\' index partitions, planner statistics, a check that the daily counts agree with the crashes), status-history pruning and missing-symbols pruning.', default: 3_600_000, min: 1000 }),
  },
  retention: {
    days: integer({ description: 'Days a crash is kept, today included: its processed crash, its search index row and its raw crash. The scheduler\'s retention job deletes older ones, a whole day at a time (on PostgreSQL the day\'s index partition is dropped). 0 keeps crashes forever.', default: 0, min: 0, max: 36_500 }),
    protected_days: integer({ description: 'Days a raw crash is kept, when shorter than `days`: the dumps and every annotation as sent, which is where protected data lives (URLs, e-mail addresses, comments, memory). The processed crash stays searchable until `days`, without its dumps. 0: as long as the crash.', default: 0, min: 0, max: 36_500 }),
    interval: duration({ description: 'How often the retention job runs.', default: 3_600_000, min: 1000 }),
    products: rules({
      description: 'Products with their own ages, one [retention.products.NAME] section each: `product` (the ProductName; empty for crashes without one), and `days` and `protected_days` as above (unset: the values above). A product named in two sections takes the last.',
      default: [],
      ruleFields: {
        fields: {
          product: string({ description: 'The product these ages are for.', required: true }),
          days: integer({ description: 'Days this product\'s crashes are kept (0: forever).', min: 0, max: 36_500 }),
          protected_days: integer({ description: 'Days this product\'s raw crashes are kept, when shorter (0: as long as the crash).', min: 0, max: 36_500 }),
        },
      },
    }),
  },
  dashboard: {
    down_after: duration({ description: 'A node whose last heartbeat is this old is shown `down` on the Operations Dashboard (and `stale` after half of it); it stays listed until an operator removes it. Also the default threshold of node_down alert rules. Keep it above node.heartbeat_interval (three intervals or more).', default: 30_000, min: 1000 }),
    queue_age_warning: duration({ description: 'A queue whose oldest waiting crash has waited this long is a `queue-old` problem on the Operations Dashboard.', default: 300_000, min: 1000 }),
    queue_growing_minutes: integer({ description: 'A queue whose waiting count grew at every one-minute point of the history for this many minutes is a `queue-growing` problem, and is badged "growing" in its row (one value for both).', default: 10, min: 2, max: 1440 }),
    failing_share: integer({ description: 'A processor is a `processor-failing` problem when this percentage or more of the crashes it handled during failing_window failed (and at least failing_min_crashes were handled).', default: 20, min: 1, max: 100 }),
    failing_min_crashes: integer({ description: 'Fewest crashes a processor must have handled during failing_window before its failed share is judged: one failure of one crash is not a trend.', default: 10, min: 1 }),
    failing_window: duration({ description: 'The span over which a processor\'s failed share is computed, from its running totals now and in the Dashboard\'s history (recorded each minute by the web nodes).', default: 600_000, min: 120_000, max: 86_400_000 }),
  },
  alerts: {
    webhook_urls: urlList({ description: 'URLs that alert notices are POSTed to (JSON, see `format`): one notice when an alert fires, again every repeat_interval while it fires, and one when it resolves. Secret, since such URLs often embed tokens (they are never logged: a URL is named by its host and a hash). Empty: alerts are only shown on the dashboard.', default: [], secret: true }),
    format: oneOf(['json', 'slack'] as const, { description: 'Body of the webhook POSTs: "json" is {status, alert, rule, severity, subject, message, since, at, dashboard_url}; "slack" is a Slack-compatible incoming-webhook body {text} (also accepted by Mattermost, Rocket.Chat and Discord\'s /slack endpoint).', default: 'json' }),
    repeat_interval: duration({ description: 'How often a notice is sent again for an alert that is still firing. 0s: never (one notice when it fires, one when it resolves).', default: 3_600_000, min: 0 }),
    evaluate_interval: duration({ description: 'How often the scheduler\'s alerts job evaluates the rules (one scheduler at a time, claimed in the job ledger). The scheduler looks for due jobs every scheduler.tick_interval, so an evaluation may come up to that much later.', default: 10_000, min: 1000 }),
    timeout: duration({ description: 'Longest time one webhook POST may take; a POST that fails or times out is tried once more, and a notice not delivered is tried again at the next evaluations.', default: 10_000, min: 100, max: 300_000 }),
    heartbeat_url: optional(url({ description: 'The dead-man\'s switch: a URL the alerts job GETs after every evaluation that succeeded, such as a healthchecks.io check (https://hc-ping.com/UUID), a Dead Man\'s Snitch (https://nosnch.in/TOKEN) or an Uptime Kuma push monitor (https://kuma.example/api/push/TOKEN?status=up). An evaluation that fails (the database down) does not ping, nor does a stopped scheduler, so the monitor pages when Mayday cannot. Set the monitor\'s period above evaluate_interval (the job runs hourly when there is no rule). One attempt within timeout (5 s at most); a failed ping is logged, not retried. Secret: such URLs are tokens (logged by host and a hash only).', protocols: ['http', 'https'], secret: true })),
    rules: rules({
      description:
        'Alert rules, one [alerts.rules.NAME] section each; every rule is evaluated every evaluate_interval. An alert is one rule and one subject (a node as NAME@HOST, HOST being node.host when set, else the machine\'s host name; a queue; or a job), named RULE:SUBJECT: it is pending while its condition holds for less than `for`, then fires (one notice), repeats every repeat_interval, and resolves (one notice) when the condition no longer holds. A node that comes back under the same name and host, whatever its process, resolves its node_down alert; a node removed from the registry while its alert fires closes it with a notice that says so (reason "removed"), not as a recovery.',
      default: [],
      ruleFields: {
        fields: {
          kind: oneOf(['node_down', 'queue_age', 'failure_rate', 'job_failed', 'dependency_unreachable', 'queue_growing', 'nodes_below'] as const, {
            description: 'What is watched. node_down: a node (NAME@HOST: namesakes on other hosts are other nodes) whose last heartbeat is `threshold` seconds old. queue_age: a queue whose oldest waiting crash is older than `threshold` seconds. failure_rate: a processor node whose failed crashes are over `threshold` percent of those it processed or failed during the last `window`. job_failed: a scheduler job whose last `threshold` runs failed. dependency_unreachable: a dependency (the database\'s crash_index and node_registry, the queue, the raw_crash_store, processed_crash_store or symbol_store) that at least `threshold` running nodes could not reach at their last heartbeat; the subject is the dependency, the message names the nodes. queue_growing: a queue whose waiting count grew at every one-minute point of the Dashboard\'s history for `threshold` minutes (the history is recorded by the web nodes). nodes_below: fewer than `threshold` running nodes with `role` (needed): a node stopped cleanly leaves the registry, so node_down never sees a fleet stopped by mistake. Running: a heartbeat younger than dashboard.down_after.',
            required: true,
          }),
          for: duration({ description: 'How long the condition must hold before the alert fires (default 0: at the first evaluation that sees it).', min: 0 }),
          threshold: integer({ description: 'node_down: seconds without a heartbeat (default: dashboard.down_after). queue_age: seconds the oldest waiting crash has waited (default 600). failure_rate: percent of failed crashes (default 10). job_failed: failed runs in a row (default 1). dependency_unreachable: running nodes that cannot reach it (default 1). queue_growing: minutes of growth (default: dashboard.queue_growing_minutes). nodes_below: fewest running nodes of the role (default 1: alerts when none runs).', min: 0, max: 31_536_000 }),
          window: duration({ description: 'failure_rate only: the span over which the rate is computed (default 5m); no crash in it means no alert.', min: 1000 }),
          node: list({ description: 'node_down, failure_rate, dependency_unreachable and nodes_below: only these nodes, each a name (on every host) or NAME@HOST (default: every node).' }),
          role: list({ description: 'node_down, failure_rate and dependency_unreachable: only nodes with one of these roles (default: every node; failure_rate only looks at nodes that report processed and failed counts). nodes_below (needed): the role whose running nodes are counted; several roles are counted each on its own, one alert per role.', values: ROLES }),
          queue: list({ description: 'queue_age and queue_growing: only these queues (default: every queue).', values: ['priority', 'standard', 'reprocessing'] }),
          dependency: list({ description: 'dependency_unreachable: only these dependencies (default: every one the nodes probe).', values: ['crash_index', 'node_registry', 'queue', 'raw_crash_store', 'processed_crash_store', 'symbol_store'] }),
          job: list({ description: 'job_failed: only these scheduler jobs (default: every job).' }),
          severity: oneOf(['warning', 'critical'] as const, { description: 'Carried in the notice and shown on the dashboard (default warning).' }),
        },
      },
    }),
  },
  source_links: {
    rules: rules({
      description:
        'Links from the report page\'s frames (file:line) into version control, one [source_links.rules.NAME] section each, tried in file order: a frame whose source file starts with `prefix` links to `url` with {path} (the rest of the file\'s path), {line} and {revision} (the value of the crash\'s `revision_annotation`) filled in; a crash without that annotation gets no link. Symbol files whose FILE records carry repository information (hg:HOST/REPO:PATH:REV, git:HOST/REPO:PATH:REV) link without a rule.',
      default: [],
      ruleFields: {
        fields: {
          prefix: string({ description: 'The absolute build path the rule covers, as the symbol files name source files, e.g. /builds/worker/checkouts/app/ or C:\\build\\app\\.', required: true }),
          url: string({ description: 'The link, with {path}, {line} and {revision}, e.g. https://github.com/org/app/blob/{revision}/{path}#L{line}.', required: true }),
          revision_annotation: string({ description: 'The annotation holding the source revision the crashing build was made from, e.g. SourceRevision.', required: true }),
        },
      },
    }),
  },
  annotations: {
    fields: rules({
      description:
        'The application\'s own annotations as crash fields, one [annotations.fields.NAME] section each (NAME: a lower-case letter, then lower-case letters, digits and "_", not a built-in field\'s name): the processor copies the annotation into the processed crash with its type, the crash index keeps it (no migration: in the index\'s JSON document), and Super Search filters, facets and sorts on it; it is listed with its description in /api/SuperSearchFields/ and the data dictionary (/documentation/datadictionary/). Crashes processed before a field was declared gain it when reprocessed.',
      default: [],
      checkRuleName: customFieldNameProblem,
      ruleFields: {
        fields: {
          annotation: string({ description: 'The annotation that feeds the field, as the client sends it (default: the section\'s NAME).', pattern: /^[A-Za-z0-9_.:-]{1,128}$/, patternHint: 'letters, digits, "_", ".", ":" and "-"' }),
          type: oneOf(CUSTOM_FIELD_TYPES, { description: 'How the value is typed, compared and faceted: keyword (exact strings), text (free text), integer, number, boolean (1/0/true/false), date (seconds since the epoch or ISO 8601). A value that does not convert is left out and noted. Default keyword.' }),
          protected: boolean({ description: 'Personal or sensitive data: the field and its annotation are shown only to viewers with view_protected (redacted from Super Search, the crash API and the report page for others). Default false.' }),
          description: string({ description: 'What the field means, shown in the data dictionary and /api/SuperSearchFields/.' }),
        },
      },
    }),
  },
  log: {
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, { description: 'Lowest level of log lines written (to standard output).', default: 'info' }),
    format: oneOf(['auto', 'json', 'pretty'] as const, { description: 'How log lines are written: json, one JSON object a line (for log collectors); pretty, coloured lines for a person (time, level, message, then the fields); auto, pretty when standard output is a terminal and JSON otherwise (a service manager, a pipe or a file).', default: 'auto' }),
  },
} as const satisfies Record<string, Record<string, OptionSpec<unknown>>>;

export type Schema = typeof SCHEMA;
export type SectionName = keyof Schema;
type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;

/** The typed, fully resolved configuration of one node. */
export type Config = {
  [S in SectionName]: { [K in keyof Schema[S]]: ValueOf<Schema[S][K]> };
};

export interface OptionInfo {
  section: string;
  key: string;
  spec: OptionSpec<unknown>;
}

/** All options in declaration order, for docs, forms and validation. */
export function listOptions(): OptionInfo[] {
  const out: OptionInfo[] = [];
  for (const [section, options] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(options)) out.push({ section, key, spec: spec as OptionSpec<unknown> });
  }
  return out;
}

export function findOption(section: string, key: string): OptionSpec<unknown> | undefined {
  const options = (SCHEMA as Record<string, Record<string, OptionSpec<unknown>>>)[section];
  return options?.[key];
}
