/** What is wrong, worst first, above everything else; a clear "all clear" when nothing is. */

import type { Problem } from './types.js';

export function ProblemsPanel({ problems }: { problems: readonly Problem[] }) {
  // The server sorts critical first; sorted again so the panel does not depend on it.
  const sorted = [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
  if (sorted.length === 0) {
    return (
      <section class="dash-problems clear" data-testid="problems" data-count="0">
        <span class="dash-problems-icon" aria-hidden="true">✓</span>
        <strong>All clear</strong>
        <span class="muted">every component is up, every storage reachable, no queue backing up and no job failing</span>
      </section>
    );
  }
  const critical = sorted.filter((p) => p.severity === 'critical').length;
  return (
    <section class={`dash-problems ${critical ? 'critical' : 'warning'}`} data-testid="problems" data-count={sorted.length}>
      <h2>
        {critical ? `${critical} critical` : ''}
        {critical && sorted.length > critical ? ', ' : ''}
        {sorted.length > critical ? `${sorted.length - critical} ${sorted.length - critical === 1 ? 'warning' : 'warnings'}` : ''}
      </h2>
      <ul>
        {sorted.map((p) => (
          <li key={`${p.kind}:${p.subject}`} class={p.severity} data-testid="problem" data-kind={p.kind} data-severity={p.severity}>
            <span class="dash-sev">{p.severity === 'critical' ? 'CRITICAL' : 'WARNING'}</span>
            <span>{p.message}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
