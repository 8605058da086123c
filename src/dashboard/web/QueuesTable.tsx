/** The queues: how many crashes wait, how many are being processed, how long the oldest has waited, how fast crashes come and go. */

import { formatDuration } from './format.js';
import { queueRatesText } from './queue-rates.js';
import { growingText } from './ops-view.js';
import type { Problem, QueueView } from './types.js';

/** Where the dead letters are listed (and retried): it needs the `reprocess` permission. */
export const DEAD_LETTERS_URL = '/api/DeadLetters/';

/** A queue's page: its figures and history. */
export function queueHref(queue: string): string {
  return `/dashboard/queue/${encodeURIComponent(queue)}`;
}

export function QueuesTable({ queues, problems, deadLetters }: { queues: readonly QueueView[]; problems: readonly Problem[]; deadLetters: number }) {
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
              <th class="num" title="Crashes per second put on the queue, and leaving it for good (processed or dead-lettered), over the nodes' last heartbeat intervals">
                In/s · out/s
              </th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => {
              // The server decides what is too old (a `queue-old` problem): one threshold, not two.
              const old = problems.some((p) => p.kind === 'queue-old' && p.subject === q.queue);
              return (
                <tr key={q.queue} data-testid="queue" data-queue={q.queue}>
                  <td>
                    <a href={queueHref(q.queue)} class="dash-name" data-testid="queue-link">
                      {q.queue}
                    </a>
                    {growingText(q.growingFor) ? (
                      <span class="dash-growing" data-testid="growing" title={`The waiting count grew at every one-minute point of the last ${q.growingFor} minutes`}>
                        {growingText(q.growingFor)}
                      </span>
                    ) : null}
                  </td>
                  <td class="num" data-testid="waiting">
                    {q.waiting.toLocaleString('en-GB')}
                  </td>
                  <td class="num">{q.inFlight.toLocaleString('en-GB')}</td>
                  <td class={`num ${old ? 'dash-text-stale' : q.oldestAgeSeconds === null ? 'muted' : ''}`}>{q.oldestAgeSeconds === null ? 'none' : formatDuration(q.oldestAgeSeconds)}</td>
                  <td class={`num ${q.enqueuedPerSecond === undefined ? 'muted' : ''}`} data-testid="rates">
                    {queueRatesText(q)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div class="dash-dead small" data-testid="dead-letters" data-count={deadLetters}>
        {deadLetters > 0 ? (
          <>
            <span class="dash-bad">
              {deadLetters.toLocaleString('en-GB')} dead {deadLetters === 1 ? 'letter' : 'letters'}
            </span>{' '}
            <span class="muted">(crashes the processors gave up on)</span> · <a href={DEAD_LETTERS_URL}>list them</a>
          </>
        ) : (
          <span class="muted">No dead letters: no crash was given up on.</span>
        )}
      </div>
    </section>
  );
}
