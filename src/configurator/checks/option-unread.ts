/**
 * An option written in a node's own file that none of the node's roles reads does nothing
 * there: it is usually meant for another node (`[retention]` on a web node, when the
 * scheduler runs retention). Settings in included files are meant for every node that
 * includes them and are not reported.
 */

import { nodeId } from '../compile.js';
import type { Finding } from '../deployment.js';
import { optionReaders } from '../option-readers.js';
import { has, type Check } from './check.js';

export const optionsRead: Check = (deployment) => {
  const out: Finding[] = [];
  for (const node of deployment.nodes) {
    for (const [option, origin] of node.origins) {
      if (origin.kind !== 'file' || origin.file !== node.file) continue;
      const readers = optionReaders(option);
      if (readers.some((r) => has(node, r))) continue;
      const elsewhere = deployment.nodes.filter((n) => n !== node && readers.some((r) => has(n, r)));
      out.push({
        layer: 'topology',
        code: 'option-unread',
        severity: 'warning',
        file: origin.file,
        line: origin.line,
        option,
        message: `${option} is set but not read by this node's roles (${node.roles.join(', ') || 'none'}): only ${readers.join(' and ')} nodes read it`,
        hint:
          elsewhere.length > 0
            ? `move it to the file of ${elsewhere.map((n) => `${n.id} (${n.file})`).join(', ')}, or remove it`
            : `remove it, or add ${readers.join(' or ')} to node.roles of ${node.id}`,
        targets: [nodeId(node)],
      });
    }
  }
  return out;
};
