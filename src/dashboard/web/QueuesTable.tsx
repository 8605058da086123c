/** The queues: how many crashes wait, how many are being processed, how long the oldest has waited. */

import { formatDuration } from './format.js';
import type { Problem, QueueView } from './types.js';

export function QueuesTable({ queues, problems }: { queues: readonly QueueView[]; problems: readonly Problem[] }) {
  return (
    <section class="card dash-queues">
      <div class="dash-panel-head">
        <h2>Queues</h2>
      </div>
      {queues.length === 0 ? (
        <div class="muted">The queue reports nothing.</div>
      ) : (
        <table class="dash-table" data-testid="queues">
          <thead>
            <tr>
              <th>Queue</th>
              <th class="num">Waiting</th>
              <th class="num">In flight</th>
              <th class="num">Oldest</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => {
              // The server decides what is too old (a `queue-old` problem): one threshold, not two.
              const old = problems.some((p) => p.kind === 'queue-old' && p.subject === q.queue);
              return (
                <tr key={q.queue} data-testid="queue" data-queue={q.queue}>
                  <td>{q.queue}</td>
                  <td class="num" data-testid="waiting">
                    {q.waiting.toLocaleString('en-GB')}
                  </td>
                  <td class="num">{q.inFlight.toLocaleString('en-GB')}</td>
                  <td class={`num ${old ? 'dash-text-stale' : q.oldestAgeSeconds === null ? 'muted' : ''}`}>{q.oldestAgeSeconds === null ? 'none' : formatDuration(q.oldestAgeSeconds)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
