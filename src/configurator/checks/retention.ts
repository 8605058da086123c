/**
 * Protected data kept forever. The built-in protected fields (url, email, user_comments,
 * app_notes) and any declared protected annotation field come with the raw crash (the
 * annotations as sent, and the dumps' memory). With `retention.days = 0` and
 * `retention.protected_days = 0` the scheduler's retention job never deletes them.
 */

import { PROTECTED_FIELDS } from '../../schema/processed-crash.js';
import { nodeId } from '../compile.js';
import type { Finding } from '../deployment.js';
import { has, listed, type Check } from './check.js';

export const protectedDataExpires: Check = (deployment, context) =>
  deployment.nodes
    .filter((n) => has(n, 'scheduler') && n.config.retention.days === 0 && n.config.retention.protected_days === 0)
    .map((node) => {
      const declared = node.config.annotations.fields.filter((f) => f.fields.protected === true).map((f) => f.name);
      const fields = [...PROTECTED_FIELDS, ...declared];
      return {
        layer: 'topology',
        code: 'protected-kept-forever',
        severity: 'warning',
        ...context.at(node, 'retention.protected_days'),
        option: 'retention.protected_days',
        message: `${node.id} keeps every crash forever (retention.days = 0, protected_days = 0): the raw crashes, where protected data lives (the dumps' memory and the annotations behind ${listed(fields)}), are never deleted`,
        hint: 'set retention.protected_days (e.g. 90) so that raw crashes go sooner; the processed crash keeps those fields until retention.days, so set that too if they must go',
        targets: [nodeId(node)],
      } satisfies Finding;
    });
