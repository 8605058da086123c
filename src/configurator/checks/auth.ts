/**
 * Logins across web nodes. Web nodes behind one load balancer must sign people in alike: a
 * single sign-on started on one node (its state cookie, its client at the provider) and
 * completed on another with other [auth] settings fails, and the login page would change
 * with the node that answers. And the provider is the root of trust: an issuer over plain
 * HTTP lets anyone on the path alter its keys and tokens.
 */

import { SCHEMA } from '../../config/schema.js';
import { nodeId } from '../compile.js';
import type { DeploymentNode, Finding } from '../deployment.js';
import { has, isLoopbackUrl, names, pickOption, type Check } from './check.js';

const AUTH_OPTIONS = Object.keys(SCHEMA.auth) as (keyof typeof SCHEMA.auth)[];

/** The node's [auth] values as one comparable string; secrets take part without being shown. */
const authOf = (node: DeploymentNode): string => JSON.stringify(AUTH_OPTIONS.map((k) => node.config.auth[k] ?? null));

export const authAgrees: Check = (deployment, context) => {
  const webs = deployment.nodes.filter((n) => has(n, 'web'));
  const counts = new Map<string, number>();
  for (const n of webs) counts.set(authOf(n), (counts.get(authOf(n)) ?? 0) + 1);
  if (counts.size < 2) return [];
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const mainNodes = webs.filter((n) => authOf(n) === main);
  const reference = mainNodes[0];
  return webs
    .filter((n) => authOf(n) !== main)
    .map((node) => {
      const differing = AUTH_OPTIONS.filter((k) => JSON.stringify(node.config.auth[k] ?? null) !== JSON.stringify(reference.config.auth[k] ?? null)).map((k) => `auth.${k}`);
      const option = pickOption(node, differing, differing[0]);
      return {
        layer: 'topology',
        code: 'auth-differs',
        severity: 'error',
        ...context.at(node, option),
        option,
        message: `${node.id} has other [auth] settings than ${names(mainNodes)} (${differing.join(', ')}): behind one load balancer, a login started on one web node and finished on another would fail, and the login page would depend on the node that answers`,
        hint: 'write [auth] once, in a file every web node includes',
        targets: [nodeId(node), ...mainNodes.map(nodeId)],
      } satisfies Finding;
    });
};

export const oidcIssuerSecure: Check = (deployment, context) =>
  deployment.nodes
    .filter((n) => has(n, 'web') && n.config.auth.oidc_issuer?.startsWith('http:') && !isLoopbackUrl(n.config.auth.oidc_issuer))
    .map((node) => ({
      layer: 'security',
      code: 'oidc-plain-http',
      severity: 'warning',
      ...context.at(node, 'auth.oidc_issuer'),
      option: 'auth.oidc_issuer',
      // No node name: a shared file's issuer is one finding, whatever the number of web nodes.
      message: `auth.oidc_issuer ${node.config.auth.oidc_issuer} is plain HTTP: the provider's discovery document, signing keys and tokens would cross the network in clear, and anyone on the path could alter them to sign in as anyone`,
      hint: 'use the provider\'s https:// issuer URL',
      targets: [nodeId(node)],
    }) satisfies Finding);
