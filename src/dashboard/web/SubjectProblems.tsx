/** The problems that concern one subject (a component, a queue), atop its detail page; nothing when there are none. */

import type { Problem } from './types.js';

export function SubjectProblems({ problems }: { problems: readonly Problem[] }) {
  if (problems.length === 0) return null;
  return (
    <section class={`dash-problems ${problems.some((p) => p.severity === 'critical') ? 'critical' : 'warning'}`} data-testid="problems" data-count={problems.length}>
      <ul>
        {problems.map((p) => (
          <li key={p.kind} class={p.severity} data-testid="problem" data-kind={p.kind}>
            <span class="dash-sev">{p.severity === 'critical' ? 'CRITICAL' : 'WARNING'}</span>
            <span>{p.message}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
