/** The head of a detail page (a component, a queue): back to the Dashboard, the title, and whether the figures are live. */

import type { ComponentChildren } from 'preact';
import { LiveIndicator } from './LiveIndicator.js';
import type { LiveOverview } from './live.js';

export function DetailHead({ live, children }: { live: LiveOverview; children: ComponentChildren }) {
  return (
    <div class="dash-head">
      <a href="/dashboard" class="dash-back">
        ← Dashboard
      </a>
      <h1>{children}</h1>
      <LiveIndicator live={live} />
    </div>
  );
}
