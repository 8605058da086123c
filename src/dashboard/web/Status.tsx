/** A component's status as a coloured dot and a word: the colour for the eye, the word for everyone. */

import type { ComponentStatus } from './types.js';

export function StatusBadge({ status }: { status: ComponentStatus }) {
  return (
    <span class={`dash-status st-${status}`} data-testid="status" data-status={status}>
      <i class="dash-dot" aria-hidden="true" />
      {status}
    </span>
  );
}

export function RoleBadges({ roles }: { roles: readonly string[] }) {
  return (
    <span class="dash-roles">
      {roles.map((role) => (
        <span key={role} class={`badge role-${role}`}>
          {role}
        </span>
      ))}
    </span>
  );
}
