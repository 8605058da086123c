/**
 * Connections to one PostgreSQL server. Each node opens one pool shared by its stores
 * (`src/node/backends.ts`), of `database.pool_size` connections at most: the nodes on one
 * server may open the sum. PostgreSQL takes 100 by default (`max_connections`), 3 of them
 * reserved for superusers. The environment layer compares with the live server's setting;
 * this one, without a server, with the default.
 */

import { nodeId } from '../compile.js';
import type { DeploymentNode, Finding } from '../deployment.js';
import { names, setInFile, type Check } from './check.js';

export const POSTGRES_DEFAULT_MAX_CONNECTIONS = 100;
export const POSTGRES_DEFAULT_RESERVED = 3;

/** `host:port` of a PostgreSQL URL: max_connections is the server's, whatever the database. */
function server(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname.toLowerCase() || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return url;
  }
}

export const postgresConnections: Check = (deployment, context) => {
  const byServer = new Map<string, DeploymentNode[]>();
  for (const node of deployment.nodes) {
    const { backend, url } = node.config.database;
    if (backend !== 'postgresql' || !url) continue;
    byServer.set(server(url), [...(byServer.get(server(url)) ?? []), node]);
  }
  const available = POSTGRES_DEFAULT_MAX_CONNECTIONS - POSTGRES_DEFAULT_RESERVED;
  const out: Finding[] = [];
  for (const [where, nodes] of byServer) {
    const wanted = nodes.reduce((sum, n) => sum + n.config.database.pool_size, 0);
    if (wanted <= available) continue;
    // The largest pool written in a file is the one to lower; with none written, the defaults' cause is the back end's line.
    const set = nodes.filter((n) => setInFile(n, 'database.pool_size'));
    const culprit = set.length > 0 ? set.reduce((a, b) => (b.config.database.pool_size > a.config.database.pool_size ? b : a)) : nodes[0];
    const option = set.length > 0 ? 'database.pool_size' : 'database.backend';
    const sizes = [...new Set(nodes.map((n) => n.config.database.pool_size))];
    out.push({
      layer: 'topology',
      code: 'postgres-connections',
      severity: 'warning',
      ...context.at(culprit, option),
      option,
      message: `the ${nodes.length} nodes on PostgreSQL ${where} (${names(nodes)}) may open ${wanted} connections (database.pool_size ${sizes.length === 1 ? `${sizes[0]} each` : sizes.join(', ')}), but PostgreSQL takes ${available} by default (max_connections ${POSTGRES_DEFAULT_MAX_CONNECTIONS} less ${POSTGRES_DEFAULT_RESERVED} reserved)`,
      hint: `lower database.pool_size (to ${Math.floor(available / nodes.length)} or less on every node), or raise max_connections on the server (or put PgBouncer in front); mayday config validate without --no-environment compares with the server's own setting`,
      targets: nodes.map(nodeId),
    });
  }
  return out;
};
