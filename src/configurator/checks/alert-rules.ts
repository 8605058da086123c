/**
 * Alert rules that name nodes (`node = NAME` or `NAME@HOST`) watch those nodes only: one
 * that no node of the deployment is (a typo, a node renamed, removed or moved) is never
 * watched, silently.
 */

import { parseIni, type IniEntry } from '../../config/ini.js';
import { nodeId } from '../compile.js';
import type { Finding } from '../deployment.js';
import { has, listed, ruleNamesNode, type Check } from './check.js';

export const alertRulesNameNodes: Check = (deployment, context) => {
  const known = deployment.nodes.map((n) => n.id);
  const out: Finding[] = [];
  for (const scheduler of deployment.nodes.filter((n) => has(n, 'scheduler'))) {
    const origin = scheduler.origins.get('alerts.rules');
    const file = origin?.kind === 'file' ? origin.file : scheduler.file;
    const entries = parseIni(deployment.files.find((f) => f.name === file)?.text ?? '').entries;
    for (const rule of scheduler.config.alerts.rules) {
      const unknown = ((rule.fields.node as string[] | undefined) ?? []).filter((entry) => !deployment.nodes.some((n) => ruleNamesNode(entry, n)));
      if (unknown.length === 0) continue;
      out.push({
        layer: 'topology',
        code: 'alert-rule-unknown-node',
        severity: 'warning',
        file,
        // The rule's `node = ...` line, else its section's.
        line: entries.find((e) => e.section === `alerts.rules.${rule.name}` && e.key === 'node')?.line ?? rule.line ?? context.at(scheduler, 'alerts.rules').line,
        option: 'alerts.rules',
        message: `alert rule "${rule.name}" watches ${unknown.length > 1 ? 'nodes' : 'node'} ${listed(unknown.map((u) => `"${u}"`))}, which ${unknown.length > 1 ? 'are' : 'is'} not in this deployment (its nodes: ${known.join(', ')}): the rule would never fire for ${unknown.length > 1 ? 'them' : 'it'}`,
        hint: `correct the node names of [alerts.rules.${rule.name}] (node.name of each node)`,
        targets: [nodeId(scheduler)],
      });
    }
  }
  return out;
};

/**
 * A nodes_below rule without `role` ("fewer than N running nodes" of which role?): the
 * scheduler refuses to start with it (`alertRules` in roles/scheduler/alerts/rules.ts says
 * the same; the Configurator does not import roles, so the condition is repeated here).
 */
export const alertRulesComplete: Check = (deployment, context) => {
  const out: Finding[] = [];
  for (const scheduler of deployment.nodes.filter((n) => has(n, 'scheduler'))) {
    const origin = scheduler.origins.get('alerts.rules');
    const file = origin?.kind === 'file' ? origin.file : scheduler.file;
    let entries: readonly IniEntry[] | undefined;
    for (const rule of scheduler.config.alerts.rules) {
      const role = rule.fields.role;
      if (rule.fields.kind !== 'nodes_below' || (Array.isArray(role) && role.length > 0)) continue;
      entries ??= parseIni(deployment.files.find((f) => f.name === file)?.text ?? '').entries;
      out.push({
        layer: 'topology',
        code: 'alert-rule-needs-role',
        severity: 'error',
        file,
        line: entries.find((e) => e.section === `alerts.rules.${rule.name}` && e.key === 'kind')?.line ?? rule.line ?? context.at(scheduler, 'alerts.rules').line,
        option: 'alerts.rules',
        message: `alert rule "${rule.name}" is nodes_below without a role: it must say whose running nodes it counts, and ${scheduler.id} would not start with it`,
        hint: `add role = collector, processor, web or scheduler to [alerts.rules.${rule.name}]`,
        targets: [nodeId(scheduler)],
      });
    }
  }
  return out;
};
