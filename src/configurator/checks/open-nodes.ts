/**
 * Nodes listening on every interface. Every node serves /metrics, /__heartbeat__ and
 * /__version__ to anyone (what its storages and queue answer, its counters, what runs); a
 * web node also serves the Configurator and the Dashboard, open to anyone until the
 * deployment's first account exists. A collector must be reachable to take crash reports,
 * so for it the warning is about what else it exposes, not about listening.
 */

import { listenAddress, nodeId } from '../compile.js';
import type { DeploymentNode, Finding } from '../deployment.js';
import { ALL_INTERFACES, has, listed, type Check } from './check.js';

const listen = (node: DeploymentNode): string => listenAddress(node.config);

function webMessage(node: DeploymentNode): { message: string; hint: string } {
  const { auth, annotations } = node.config;
  const head = `${node.id} serves Crash Stats, the Configurator and the Dashboard on every interface (${listen(node)})`;
  const protectedFields = annotations.fields.filter((f) => f.fields.protected === true).map((f) => f.name);
  const secrets = protectedFields.length > 0 ? `; visitors without an account never see protected data (url, email, user_comments, app_notes and the declared ${listed(protectedFields)}), so whoever needs it needs an account with view_protected` : '';
  const proxy = 'or listen on 127.0.0.1 behind a reverse proxy (docs/deployment.md)';
  if (auth.oidc_issuer) {
    return {
      message: `${head}; it signs people in through single sign-on (${auth.oidc_issuer}), but until the first account exists (${auth.oidc_create_users ? 'made at a first single sign-on login, ' : ''}or by mayday users create, or an API token), the Configurator and the Dashboard are open to anyone who reaches it${secrets}`,
      hint: `before exposing it, sign in once and make that account admin (auth.oidc_group_map = YOUR_ADMIN_GROUP=admins, or mayday users create NAME --admin), ${proxy}`,
    };
  }
  return {
    message: `${head}; until the first account exists (a user or an API token), the Configurator and the Dashboard are open to anyone who reaches it${secrets}`,
    hint: `create accounts (mayday users create NAME --admin) before exposing it, ${proxy}`,
  };
}

export const openNodes: Check = (deployment, context) =>
  deployment.nodes
    .filter((n) => ALL_INTERFACES.has(n.config.web.host))
    .map((node) => {
      const at = { ...context.at(node, 'web.host'), option: 'web.host', targets: [nodeId(node)] };
      if (has(node, 'web')) return { layer: 'security', code: 'open-without-accounts', severity: 'warning', ...at, ...webMessage(node) } satisfies Finding;
      const exposed = '/metrics, /__heartbeat__ and /__version__ (counters, the health of its storages, queue and database, the version it runs)';
      return {
        layer: 'security',
        code: 'open-metrics',
        severity: 'warning',
        ...at,
        message: has(node, 'collector')
          ? `${node.id} listens on every interface (${listen(node)}), as a collector must to take crash reports, so its ${exposed} are public too`
          : `${node.id} listens on every interface (${listen(node)}), where it serves nothing but ${exposed}: they are public to anyone who reaches it`,
        hint: has(node, 'collector')
          ? 'let a load balancer or reverse proxy pass only /submit (and /__lbheartbeat__) from outside, and scrape /metrics from the inside network; or firewall the port to the networks that submit'
          : 'set web.host to the address of an internal network, or firewall the port to the monitoring hosts',
      } satisfies Finding;
    });
