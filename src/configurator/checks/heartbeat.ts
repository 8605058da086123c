/**
 * Heartbeats against the thresholds that judge them. The Operations Dashboard, served by
 * web nodes, calls a node stale after half of the web node's `dashboard.down_after`
 * without a heartbeat; the scheduler's node_down alert rules without a threshold fire
 * after the scheduler's `dashboard.down_after`. Each node's `node.heartbeat_interval` is
 * compared with every judge's value, not with its own: the node's own `down_after` is
 * read by nobody unless it is a web node or the scheduler.
 */

import { nodeId } from '../compile.js';
import type { DeploymentNode, Finding } from '../deployment.js';
import { has, listed, names, ruleNamesNode, seconds, setInFile, setInOwnFile, type Check } from './check.js';

interface Judge {
  node: DeploymentNode;
  /** A node silent this long (ms) or longer is called stale or down by it. */
  limitMs: number;
  /** Whether a silence of exactly `limitMs` already counts (alerts fire at `>=`; the Dashboard's stale at `>`). */
  inclusive: boolean;
  /** Nodes it judges. */
  judged: DeploymentNode[];
  /** What it does, for messages: `the Operations Dashboard on web calls a node stale`. */
  verb: (judges: string, finite: boolean) => string;
  consequence: (many: boolean) => string;
}

/** node_down rules of a scheduler whose threshold is `dashboard.down_after` (none of their own). */
function downAfterRules(node: DeploymentNode): { name: string; nodes?: string[]; roles?: string[] }[] {
  return node.config.alerts.rules
    .filter((r) => r.fields.kind === 'node_down' && r.fields.threshold === undefined)
    .map((r) => ({ name: r.name, nodes: r.fields.node as string[] | undefined, roles: r.fields.role as string[] | undefined }));
}

function judgesOf(nodes: readonly DeploymentNode[]): Judge[] {
  const judges: Judge[] = [];
  for (const node of nodes) {
    const downAfter = node.config.dashboard.down_after;
    if (has(node, 'web')) {
      judges.push({
        node,
        limitMs: downAfter / 2,
        inclusive: false,
        judged: [...nodes],
        verb: (on, finite) => `the Operations Dashboard on ${on} ${finite ? 'calls' : 'call'} a node stale after ${seconds(downAfter / 2)} without a heartbeat (and down after ${seconds(downAfter)})`,
        consequence: (many) => `${many ? 'they' : 'it'} would show stale between ${many ? 'their' : 'its'} beats`,
      });
    }
    if (has(node, 'scheduler')) {
      for (const rule of downAfterRules(node)) {
        const judged = nodes.filter((n) => (!rule.nodes || rule.nodes.some((entry) => ruleNamesNode(entry, n))) && (!rule.roles || n.roles.some((r) => rule.roles!.includes(r))));
        judges.push({
          node,
          limitMs: downAfter,
          inclusive: true,
          judged,
          verb: (on, finite) => `the node_down alert rule "${rule.name}" of ${on} ${finite ? 'fires' : 'fire'} after ${seconds(downAfter)} without a heartbeat`,
          consequence: (many) => `the alert would fire between ${many ? 'their' : 'its'} beats`,
        });
      }
    }
  }
  return judges;
}

const exceeds = (node: DeploymentNode, judge: Judge): boolean =>
  judge.inclusive ? node.config.node.heartbeat_interval >= judge.limitMs : node.config.node.heartbeat_interval > judge.limitMs;

/**
 * The fault is the heartbeat interval when a file sets it (the node's own choice), else
 * the judge's `down_after` (a default interval of 10 s is only too long for a lowered
 * `down_after`). Findings at one place are merged: a setting in a shared file is one line.
 */
export const heartbeatFresh: Check = (deployment, context) => {
  const judges = judgesOf(deployment.nodes);
  const groups = new Map<string, { place: { file: string; line: number }; option: string; judge: Judge; judges: DeploymentNode[]; nodes: DeploymentNode[] }>();
  const add = (key: string, place: { file: string; line: number }, option: string, judge: Judge, node: DeploymentNode): void => {
    const group = groups.get(key) ?? { place, option, judge, judges: [], nodes: [] };
    if (!group.judges.includes(judge.node)) group.judges.push(judge.node);
    if (!group.nodes.includes(node)) group.nodes.push(node);
    groups.set(key, group);
  };
  for (const node of deployment.nodes) {
    const late = judges.filter((j) => j.judged.includes(node) && exceeds(node, j));
    if (late.length === 0) continue;
    if (setInFile(node, 'node.heartbeat_interval')) {
      // One finding per interval that is too long, against the strictest judge.
      const judge = late.reduce((a, b) => (b.limitMs < a.limitMs ? b : a));
      const place = context.at(node, 'node.heartbeat_interval');
      add(`hb|${place.file}:${place.line}|${node.config.node.heartbeat_interval}|${judge.limitMs}|${judge.inclusive}`, place, 'node.heartbeat_interval', judge, node);
    } else {
      for (const judge of late) {
        const place = context.at(judge.node, 'dashboard.down_after');
        add(`da|${place.file}:${place.line}|${judge.limitMs}|${judge.inclusive}`, place, 'dashboard.down_after', judge, node);
      }
    }
  }
  return [...groups.values()].map(({ place, option, judge, judges: on, nodes }) => {
    const many = nodes.length > 1;
    const intervals = [...new Set(nodes.map((n) => n.config.node.heartbeat_interval))];
    const every = intervals.length === 1 ? seconds(intervals[0]) : `${listed(intervals.map((i) => String(i / 1000)))} s`;
    const longest = Math.max(...intervals);
    const downAfter = judge.node.config.dashboard.down_after;
    const at = { layer: 'topology', code: 'heartbeat-stale', severity: 'warning', ...place, option } as const;
    if (option === 'node.heartbeat_interval') {
      const fit = judge.inclusive ? downAfter / 3 : downAfter / 6;
      return {
        ...at,
        message: `${names(nodes)} ${many ? 'report' : 'reports'} every ${every}, but ${judge.verb(names(on), true)}: ${judge.consequence(many)}`,
        hint: `set node.heartbeat_interval to ${seconds(fit)} or less, or raise dashboard.down_after (on ${names(on)}) to ${seconds(longest * (judge.inclusive ? 3 : 6))} or more`,
        targets: nodes.map(nodeId),
      } satisfies Finding;
    }
    return {
      ...at,
      message: `dashboard.down_after = ${seconds(downAfter)} makes ${judge.verb(names(on), false)}, but ${names(nodes)} ${many ? 'report' : 'reports'} every ${every}: ${judge.consequence(many)}`,
      hint: `raise dashboard.down_after to ${seconds(longest * 3)} or more (three heartbeat intervals), or lower node.heartbeat_interval of ${names(nodes)}`,
      targets: [...on, ...nodes].map(nodeId),
    } satisfies Finding;
  });
};

/**
 * Web nodes behind one load balancer must agree on `dashboard.down_after` (the Dashboard
 * would call a node stale on one and fresh on the other), and a scheduler whose node_down
 * alerts take it as their threshold must agree with them (the alerts and the Dashboard's
 * table would disagree).
 */
export const downAfterAgrees: Check = (deployment, context) => {
  const webs = deployment.nodes.filter((n) => has(n, 'web'));
  if (webs.length === 0) return [];
  const value = (n: DeploymentNode): number => n.config.dashboard.down_after;
  const counts = new Map<number, number>();
  for (const n of webs) counts.set(value(n), (counts.get(value(n)) ?? 0) + 1);
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const reference = webs.find((n) => value(n) === main)!;
  const out: Finding[] = [];
  for (const node of webs.filter((n) => value(n) !== main)) {
    out.push({
      layer: 'topology',
      code: 'down-after-differs',
      severity: 'warning',
      ...context.at(node, 'dashboard.down_after'),
      option: 'dashboard.down_after',
      message: `${node.id} has dashboard.down_after = ${seconds(value(node))}, but ${names(webs.filter((n) => value(n) === main))} ${seconds(main)}: behind one load balancer, the Dashboard would call a node stale or down depending on the web node that answers`,
      hint: 'set dashboard.down_after once, in a file every web node and the scheduler include',
      targets: [nodeId(node), nodeId(reference)],
    });
  }
  for (const scheduler of deployment.nodes.filter((n) => has(n, 'scheduler') && !has(n, 'web') && downAfterRules(n).length > 0 && value(n) !== main)) {
    // Blame the one whose own file departs: a scheduler left at the default is right if the web node's file lowered it.
    const [at, other] = !setInOwnFile(scheduler, 'dashboard.down_after') && setInOwnFile(reference, 'dashboard.down_after') ? [reference, scheduler] : [scheduler, reference];
    out.push({
      layer: 'topology',
      code: 'down-after-differs',
      severity: 'warning',
      ...context.at(at, 'dashboard.down_after'),
      option: 'dashboard.down_after',
      message: `${at.id} has dashboard.down_after = ${seconds(value(at))}, but ${other.id} ${seconds(value(other))}: the node_down alerts of ${scheduler.id} (rule ${downAfterRules(scheduler).map((r) => `"${r.name}"`).join(', ')}) and the Dashboard on ${reference.id} would disagree about which nodes are down`,
      hint: 'set dashboard.down_after once, in a file every web node and the scheduler include',
      targets: [nodeId(scheduler), nodeId(reference)],
    });
  }
  return out;
};
