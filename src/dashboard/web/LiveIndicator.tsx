/** Whether the page is live, and how fresh its figures are: an operator must never trust a frozen page. */

import { formatAgo, formatClock } from './format.js';
import { useNow } from './hooks.js';
import type { LiveOverview } from './live.js';

export function LiveIndicator({ live }: { live: LiveOverview }) {
  const now = useNow(1000);
  const { state, receivedAt, overview } = live;
  const updated = overview ? `updated ${formatClock(overview.at)}` : '';
  const age = receivedAt ? Math.round((now - receivedAt) / 1000) : undefined;
  if (state.kind === 'live') {
    return (
      <span class="dash-live on" data-testid="live" data-state="live" title="Figures arrive every 2 s over a live connection">
        <i class="dash-pulse" aria-hidden="true" />
        <strong>LIVE</strong>
        <span data-testid="updated-at">{updated}</span>
      </span>
    );
  }
  if (state.kind === 'connecting') {
    return (
      <span class="dash-live" data-testid="live" data-state="connecting">
        <i class="dash-pulse idle" aria-hidden="true" />
        connecting…
      </span>
    );
  }
  const retryIn = state.kind === 'broken' ? Math.max(0, Math.round((state.retryAt - now) / 1000)) : undefined;
  return (
    <span class="dash-live off" data-testid="live" data-state={state.kind} role="alert">
      <i class="dash-pulse off" aria-hidden="true" />
      <strong>{state.kind === 'broken' ? 'NOT LIVE' : 'NODE FAILING'}</strong>
      <span>
        {state.reason}
        {retryIn !== undefined ? ` · retrying${retryIn > 0 ? ` in ${retryIn} s` : '…'}` : ''}
        {age !== undefined ? ` · figures from ${formatAgo(age)}` : ''}
      </span>
    </span>
  );
}
