/**
 * The validator's cross-file layers, after the schema layer the loader already ran on
 * each file: topology (do the nodes make one working pipeline?) and security (is it safe
 * to expose?). Each check is one small function over the compiled deployment, in the
 * manner of Socorro's processor rules, so that a new mistake is a new function.
 *
 * Every finding is placed at the line that causes it: the option's line in the file that
 * set it, or, for a default, the section (else the first line) of the node's own file.
 */

import { parseIni } from '../config/ini.js';
import type { NamedRule } from '../config/option-types.js';
import { findOption, SCHEMA } from '../config/schema.js';
import { alertRulesComplete, alertRulesNameNodes } from './checks/alert-rules.js';
import { authAgrees, oidcIssuerSecure } from './checks/auth.js';
import { ALL_INTERFACES, has, isLoopbackUrl, names, pickOption, type Check, type Context } from './checks/check.js';
import { downAfterAgrees, heartbeatFresh } from './checks/heartbeat.js';
import { openNodes } from './checks/open-nodes.js';
import { optionsRead } from './checks/option-unread.js';
import { postgresConnections } from './checks/pg-connections.js';
import { protectedDataExpires } from './checks/retention.js';
import { webStoresWritten } from './checks/web-stores.js';
import { nodeId, nodeResources, type NodeResources } from './compile.js';
import type { Deployment, DeploymentNode, Finding, Resource, ResourceKind } from './deployment.js';

/**
 * Where a finding about an option of a node belongs: the line that set it, else the
 * option's section in the node's own file, else its [node] section, else its first line.
 */
export function optionPlace(deployment: Pick<Deployment, 'files'>, node: DeploymentNode, option: string): { file: string; line: number } {
  const origin = node.origins.get(option);
  if (origin?.kind === 'file') return { file: origin.file, line: origin.line };
  const text = deployment.files.find((f) => f.name === node.file)?.text ?? '';
  const doc = parseIni(text);
  const section = option.split('.')[0];
  const line = doc.sections.find((s) => s.name === section)?.line ?? doc.sections.find((s) => s.name === 'node')?.line ?? 1;
  return { file: node.file, line };
}

export function validateDeployment(deployment: Deployment): Finding[] {
  const context: Context = {
    resources: new Map(deployment.nodes.map((n) => [n, nodeResources(n)])),
    at: (node, option) => optionPlace(deployment, node, option),
    hostLocal: new Set(),
  };
  const findings: Finding[] = [];
  for (const check of CHECKS) findings.push(...check(deployment, context));
  return dedupe(findings);
}

/** A finding in a shared (included) file comes once, not once per node including it. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}|${f.file}|${f.line}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}


// ---------------------------------------------------------------------------------------
// Topology

const rolesPresent: Check = (deployment, context) => {
  const first = deployment.nodes[0];
  if (!first) return [];
  const out: Finding[] = [];
  for (const role of ['collector', 'processor'] as const) {
    if (deployment.nodes.some((n) => has(n, role))) continue;
    out.push({
      layer: 'topology',
      code: `no-${role}`,
      severity: 'error',
      ...context.at(first, 'node.roles'),
      option: 'node.roles',
      message: role === 'collector' ? 'no node has the collector role: nothing accepts crash reports' : 'no node has the processor role: crashes are collected but never processed',
      hint: `add ${role} to node.roles of a node`,
    });
  }
  return out;
};

const oneScheduler: Check = (deployment, context) => {
  // The node kept is the first scheduler-only node in file order (else the first
  // scheduler): a node that only schedules is taken for the intended one; every other
  // scheduler is the mistake, reported at its own roles line.
  const schedulers = deployment.nodes.filter((n) => has(n, 'scheduler'));
  const kept = schedulers.find((n) => n.roles.length === 1) ?? schedulers[0];
  return schedulers
    .filter((n) => n !== kept)
    .map((node) => ({
      layer: 'topology',
      code: 'second-scheduler',
      severity: 'error',
      ...context.at(node, 'node.roles'),
      option: 'node.roles',
      message: `${node.id} is a second scheduler (${kept.id} is one): a deployment runs one`,
      hint: 'remove scheduler from node.roles of all nodes but one',
      targets: [nodeId(node)],
    }));
};

const uniqueNames: Check = (deployment, context) => {
  const seen = new Map<string, DeploymentNode>();
  const out: Finding[] = [];
  for (const node of deployment.nodes) {
    const first = seen.get(node.id);
    if (first) {
      out.push({
        layer: 'topology',
        code: 'duplicate-node-name',
        severity: 'error',
        ...context.at(node, 'node.name'),
        option: 'node.name',
        message: `node.name "${node.id}" is also the name of the node in ${first.file}: the registry and the Dashboard would mix them up`,
        hint: 'give every node its own node.name',
      });
    } else seen.set(node.id, node);
  }
  return out;
};

/** Which roles must reach each kind of resource, and the option choosing its back end. */
const SHARED: { kind: ResourceKind; key: keyof NodeResources; roles: string[]; backendOption: string; fix: string; what: string }[] = [
  { kind: 'raw-store', key: 'raw', roles: ['collector', 'processor', 'web', 'scheduler'], backendOption: 'storage.backend', fix: 'storage.backend = s3', what: 'raw crashes' },
  { kind: 'processed-store', key: 'processed', roles: ['processor', 'web', 'scheduler'], backendOption: 'storage.backend', fix: 'storage.backend = s3', what: 'processed crashes' },
  { kind: 'queue', key: 'queue', roles: ['collector', 'processor', 'web', 'scheduler'], backendOption: 'queue.backend', fix: 'queue.backend = rabbitmq', what: 'the processing queue' },
  { kind: 'database', key: 'database', roles: ['collector', 'processor', 'web', 'scheduler'], backendOption: 'database.backend', fix: 'database.backend = postgresql', what: 'the database' },
  { kind: 'symbol-store', key: 'symbols', roles: ['processor', 'web'], backendOption: 'symbols.store', fix: 'symbols.store = s3', what: 'the symbol store' },
];

const hostLocalAcrossHosts: Check = (deployment, context) => {
  const out: Finding[] = [];
  for (const shared of SHARED) {
    const users = deployment.nodes.filter((n) => shared.roles.some((r) => has(n, r)));
    const hosts = [...new Set(users.map((n) => n.host))];
    if (hosts.length < 2) continue;
    for (const node of users) {
      const resource = context.resources.get(node)![shared.key] as Resource;
      if (!resource.host) continue;
      const others = users.filter((n) => n.host !== node.host);
      context.hostLocal.add(`${node.id}|${shared.kind}`);
      const option = shared.backendOption;
      out.push({
        layer: 'topology',
        code: 'host-local-shared',
        severity: 'error',
        ...context.at(node, option),
        option,
        message: `${node.id} keeps ${shared.what} on its own host (${resource.backend === 'fs' ? 'files' : 'SQLite'} at ${node.host}:${resource.detail}), but ${names(others)} on ${[...new Set(others.map((n) => n.host))].join(', ')} must share it`,
        hint: `set ${shared.fix} on every node (in a shared include file)`,
        targets: [resource.id, nodeId(node)],
      });
    }
  }
  return out;
};

const queuesConsumed: Check = (deployment, context) => {
  const out: Finding[] = [];
  const consumers = deployment.nodes.filter((n) => has(n, 'processor'));
  const consumed = new Set(consumers.map((n) => context.resources.get(n)!.queue.id));
  if (consumers.length === 0) return out;
  for (const node of deployment.nodes) {
    if (!['collector', 'web', 'scheduler'].some((r) => has(node, r))) continue;
    const queue = context.resources.get(node)!.queue;
    if (consumed.has(queue.id) || context.hostLocal.has(`${node.id}|queue`)) continue;
    const option = queueOption(node);
    const theirs = [...new Set(consumers.map((n) => context.resources.get(n)!.queue.label + ' on ' + context.resources.get(n)!.queue.detail))].join('; ');
    out.push({
      layer: 'topology',
      code: 'queue-unconsumed',
      severity: 'error',
      ...context.at(node, option),
      option,
      message: `${node.id} puts crash ids on ${queue.label} (${queue.detail}), which no processor consumes (processors read ${theirs})`,
      hint: `use the processors' queue settings (${option}) on ${node.id}`,
      targets: [queue.id, `${nodeId(node)}->${queue.id}`],
    });
  }
  const published = new Set(deployment.nodes.filter((n) => has(n, 'collector')).map((n) => context.resources.get(n)!.queue.id));
  if (published.size === 0) return out;
  for (const node of consumers) {
    const queue = context.resources.get(node)!.queue;
    if (published.has(queue.id) || context.hostLocal.has(`${node.id}|queue`)) continue;
    const option = queueOption(node);
    out.push({
      layer: 'topology',
      code: 'queue-unpublished',
      severity: 'warning',
      ...context.at(node, option),
      option,
      message: `${node.id} consumes ${queue.label} (${queue.detail}), where no collector puts crash ids`,
      hint: `use the collectors' queue settings (${option}) on ${node.id}`,
      targets: [queue.id, `${queue.id}->${nodeId(node)}`],
    });
  }
  return out;
};

function queueOption(node: DeploymentNode): string {
  if (node.config.queue.backend === 'rabbitmq') return pickOption(node, ['queue.prefix', 'queue.url'], 'queue.url');
  return pickOption(node, ['queue.path', 'node.data_dir', 'queue.backend'], 'queue.backend');
}

const rawCrashesWritten: Check = (deployment, context) => {
  const collectors = deployment.nodes.filter((n) => has(n, 'collector'));
  if (collectors.length === 0) return [];
  const written = new Set(collectors.map((n) => context.resources.get(n)!.raw.id));
  return deployment.nodes
    .filter((n) => has(n, 'processor') && !written.has(context.resources.get(n)!.raw.id) && !context.hostLocal.has(`${n.id}|raw-store`))
    .map((node) => {
      const raw = context.resources.get(node)!.raw;
      const option = storageOption(node, 'raw');
      const theirs = [...new Set(collectors.map((n) => context.resources.get(n)!.raw.detail))].join('; ');
      return {
        layer: 'topology',
        code: 'raw-store-unwritten',
        severity: 'error',
        ...context.at(node, option),
        option,
        message: `${node.id} reads raw crashes from ${raw.detail}, where no collector writes them (collectors write to ${theirs})`,
        hint: `point ${option} of ${node.id} at the collectors' storage`,
        targets: [raw.id, `${raw.id}->${nodeId(node)}`],
      } satisfies Finding;
    });
};

function storageOption(node: DeploymentNode, which: 'raw' | 'processed'): string {
  if (node.config.storage.backend === 's3') return pickOption(node, ['storage.s3_bucket', 'storage.s3_prefix', 'storage.s3_endpoint'], 'storage.backend');
  return pickOption(node, [which === 'raw' ? 'storage.raw_path' : 'storage.processed_path', 'node.data_dir'], 'node.data_dir');
}

const oneDatabase: Check = (deployment, context) => {
  // The database the web nodes read is the one processors must index into; without web
  // nodes, the processors' most common one.
  const readers = deployment.nodes.filter((n) => has(n, 'web'));
  const basis = readers.length > 0 ? readers : deployment.nodes.filter((n) => has(n, 'processor'));
  if (basis.length === 0) return [];
  const counts = new Map<string, number>();
  for (const node of basis) {
    const id = context.resources.get(node)!.database.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const mainDetail = context.resources.get(basis.find((n) => context.resources.get(n)!.database.id === main)!)!.database.detail;
  const out: Finding[] = [];
  for (const node of deployment.nodes) {
    const database = context.resources.get(node)!.database;
    if (database.id === main || context.hostLocal.has(`${node.id}|database`)) continue;
    const option = node.config.database.backend === 'postgresql' ? pickOption(node, ['database.schema', 'database.url'], 'database.url') : pickOption(node, ['database.path', 'node.data_dir', 'database.backend'], 'database.backend');
    out.push({
      layer: 'topology',
      code: 'database-split',
      severity: has(node, 'processor') || has(node, 'web') ? 'error' : 'warning',
      ...context.at(node, option),
      option,
      message: `${node.id} uses the database ${database.detail}, but the ${readers.length > 0 ? 'web nodes read' : 'processors use'} ${mainDetail}${has(node, 'processor') ? ': the crashes it processes would never be searchable' : ''}`,
      hint: `give every node the same [database] settings (a shared include file)`,
      targets: [database.id, nodeId(node)],
    });
  }
  return out;
};

const symbolsRead: Check = (deployment, context) => {
  const processors = deployment.nodes.filter((n) => has(n, 'processor'));
  if (processors.length === 0) return [];
  // A processor searches its store and every other directory of symbols.paths.
  const read = new Set(processors.flatMap((n) => context.resources.get(n)!.symbolSources));
  return deployment.nodes
    .filter((n) => has(n, 'web') && !read.has(context.resources.get(n)!.symbols.id) && !context.hostLocal.has(`${n.id}|symbol-store`))
    .map((node) => {
      const store = context.resources.get(node)!.symbols;
      const option = node.config.symbols.store === 's3' ? pickOption(node, ['symbols.s3_bucket', 'symbols.s3_prefix', 'symbols.s3_endpoint'], 'symbols.store') : pickOption(node, ['symbols.paths', 'node.data_dir'], 'symbols.store');
      return {
        layer: 'topology',
        code: 'symbols-unread',
        severity: 'error',
        ...context.at(node, option),
        option,
        message: `${node.id} stores uploaded symbols in ${store.detail}, which no processor reads: uploads would never symbolicate a crash`,
        hint: `give ${node.id} the processors' [symbols] store`,
        targets: [store.id, `${nodeId(node)}->${store.id}`],
      } satisfies Finding;
    });
};

const portsDistinct: Check = (deployment, context) => {
  const out: Finding[] = [];
  const nodes = deployment.nodes;
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [nodes[j], nodes[i]];
      if (a.host !== b.host || a.config.web.port === 0 || a.config.web.port !== b.config.web.port) continue;
      const [ha, hb] = [a.config.web.host, b.config.web.host];
      if (ha !== hb && !ALL_INTERFACES.has(ha) && !ALL_INTERFACES.has(hb)) continue;
      out.push({
        layer: 'topology',
        code: 'port-clash',
        severity: 'error',
        ...context.at(b, 'web.port'),
        option: 'web.port',
        message: `${b.id} listens on port ${b.config.web.port} of ${b.host}, as ${a.id} does (${a.file}): the second to start would fail`,
        hint: 'give each node on a host its own web.port',
        targets: [nodeId(a), nodeId(b)],
      });
    }
  }
  return out;
};

const throttleRulesReachable: Check = (deployment, context) => {
  const out: Finding[] = [];
  for (const node of deployment.nodes.filter((n) => has(n, 'collector'))) {
    const rules = node.config.throttle.rules;
    const origin = node.origins.get('throttle.rules');
    const file = origin?.kind === 'file' ? origin.file : node.file;
    const allowed = node.config.throttle.products;
    rules.forEach((rule, index) => {
      const where = { file, line: rule.line ?? context.at(node, 'throttle.rules').line };
      const shadow = rules.slice(0, index).find((earlier) => shadows(earlier, rule));
      if (shadow) {
        out.push({
          layer: 'topology',
          code: 'throttle-shadowed',
          severity: 'warning',
          ...where,
          option: 'throttle.rules',
          message: `throttle rule "${rule.name}" can never match: rule "${shadow.name}" (line ${shadow.line}) comes first and matches every crash it would`,
          hint: `move [throttle.rules.${rule.name}] above [throttle.rules.${shadow.name}], or narrow "${shadow.name}"`,
        });
        return;
      }
      const products = rule.fields.product as string[] | undefined;
      if (allowed.length > 0 && products && !products.some((p) => allowed.includes(p))) {
        out.push({
          layer: 'topology',
          code: 'throttle-unmatchable',
          severity: 'warning',
          ...where,
          option: 'throttle.rules',
          message: `throttle rule "${rule.name}" can never match: throttle.products accepts only ${allowed.join(', ')}, and the rule is for ${products.join(', ')}`,
          hint: 'add the product to throttle.products, or remove the rule',
        });
      } else if (rule.fields.sample === 0) {
        out.push({ layer: 'topology', code: 'throttle-unmatchable', severity: 'warning', ...where, option: 'throttle.rules', message: `throttle rule "${rule.name}" has sample = 0: it never applies`, hint: 'remove the rule, or give it a sample above 0' });
      }
    });
  }
  return out;
};

/**
 * Whether every crash `later` matches is matched by `earlier` first and decided there:
 * `earlier` samples all of its matches, and each of its conditions is implied by one of
 * `later`'s (an absent condition matches everything).
 */
export function shadows(earlier: NamedRule, later: NamedRule): boolean {
  const sample = earlier.fields.sample as number | undefined;
  if (sample !== undefined && sample < 100) return false;
  const subset = (outer: unknown, inner: unknown): boolean => {
    if (outer === undefined) return true;
    if (inner === undefined) return false;
    return (inner as string[]).every((v) => (outer as string[]).includes(v));
  };
  if (!subset(earlier.fields.product, later.fields.product)) return false;
  if (!subset(earlier.fields.channel, later.fields.channel)) return false;
  if (earlier.fields.version !== undefined && earlier.fields.version !== later.fields.version) return false;
  const earlierAnnotations = earlier.families.annotation ?? {};
  const laterAnnotations = later.families.annotation ?? {};
  return Object.entries(earlierAnnotations).every(([name, pattern]) => laterAnnotations[name] === pattern);
}

// ---------------------------------------------------------------------------------------
// Security

const plainHttpLogins: Check = (deployment, context) =>
  deployment.nodes
    .filter((n) => has(n, 'web') && n.config.web.public_url?.startsWith('http:') && !isLoopbackUrl(n.config.web.public_url))
    .map((node) => ({
      layer: 'security',
      code: 'plain-http-login',
      severity: 'warning',
      ...context.at(node, 'web.public_url'),
      option: 'web.public_url',
      message: `${node.id} takes logins at ${node.config.web.public_url}, over plain HTTP: passwords and session cookies cross the network in clear`,
      hint: 'serve it through a TLS proxy and set web.public_url to its https:// URL (the session cookie is then Secure)',
      targets: [nodeId(node)],
    }));

const secretsPrivate: Check = (deployment) => {
  const out: Finding[] = [];
  for (const file of deployment.files) {
    if (file.mode === undefined || (file.mode & 0o044) === 0) continue;
    const doc = parseIni(file.text);
    const secret = doc.entries.find((e) => findOption(e.section, e.key)?.secret);
    if (!secret) continue;
    const worldReadable = (file.mode & 0o004) !== 0;
    out.push({
      layer: 'security',
      code: 'secret-readable',
      severity: 'warning',
      file: file.name,
      line: secret.line,
      option: `${secret.section}.${secret.key}`,
      message: `${file.name} holds a secret (${secret.section}.${secret.key}) and is readable by ${worldReadable ? 'every user of the machine' : 'its group'} (mode ${(file.mode & 0o777).toString(8)})`,
      hint: `chmod 600 ${file.name}, or pass the secret in the environment (MAYDAY_${secret.section.toUpperCase()}_${secret.key.toUpperCase()})`,
    });
  }
  return out;
};

/** A credential written into an option that is not secret is printed by `config explain` and logs. */
const credentialsInPlainOptions: Check = (deployment) => {
  const out: Finding[] = [];
  for (const file of deployment.files) {
    for (const entry of parseIni(file.text).entries) {
      const spec = findOption(entry.section, entry.key);
      if (!spec || spec.secret || (spec.kind !== 'url' && spec.kind !== 'list')) continue;
      if (!/[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(entry.value)) continue;
      out.push({
        layer: 'schema',
        code: 'credentials-in-plain-option',
        severity: 'warning',
        file: file.name,
        line: entry.line,
        option: `${entry.section}.${entry.key}`,
        message: `${entry.section}.${entry.key} carries a password in its URL, but it is not a secret option: it would be shown by config explain and in logs`,
        hint: 'use the credential options of that service, or a URL without a password',
      });
    }
  }
  return out;
};

/**
 * Declared annotation fields are read by three roles (the collector protects their
 * annotations, the processor types them, web nodes search and redact them): a node that
 * declares them differently indexes, hides or searches other fields than its peers.
 */
const annotationFieldsAgree: Check = (deployment, context) => {
  const readers = deployment.nodes.filter((n) => has(n, 'collector') || has(n, 'processor') || has(n, 'web'));
  const declared = (node: DeploymentNode): string => SCHEMA.annotations.fields.format(node.config.annotations.fields);
  const counts = new Map<string, number>();
  for (const node of readers) counts.set(declared(node), (counts.get(declared(node)) ?? 0) + 1);
  if (counts.size < 2) return [];
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const mainNodes = readers.filter((n) => declared(n) === main);
  return readers
    .filter((n) => declared(n) !== main)
    .map((node) => ({
      layer: 'topology',
      code: 'annotation-fields-differ',
      severity: 'error',
      ...context.at(node, pickOption(node, ['annotations.fields'], 'annotations.fields')),
      option: 'annotations.fields',
      message: `${node.id} declares other [annotations.fields.*] than ${names(mainNodes)}: ${has(node, 'processor') ? 'the crashes it processes would lack or mistype fields the others search' : has(node, 'web') ? 'its pages would search, or show unprotected, other fields than the index holds' : 'it would protect other annotations than the others'}`,
      hint: 'declare the fields once, in a file every node includes (include = fields.ini)',
      targets: [nodeId(node)],
    }) satisfies Finding);
};

const CHECKS: readonly Check[] = [
  credentialsInPlainOptions,
  rolesPresent,
  oneScheduler,
  uniqueNames,
  hostLocalAcrossHosts,
  queuesConsumed,
  rawCrashesWritten,
  webStoresWritten,
  oneDatabase,
  symbolsRead,
  portsDistinct,
  heartbeatFresh,
  downAfterAgrees,
  throttleRulesReachable,
  annotationFieldsAgree,
  optionsRead,
  protectedDataExpires,
  postgresConnections,
  authAgrees,
  alertRulesNameNodes,
  alertRulesComplete,
  openNodes,
  plainHttpLogins,
  oidcIssuerSecure,
  secretsPrivate,
];
