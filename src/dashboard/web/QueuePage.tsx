/**
 * `/dashboard/queue/NAME`: one queue, for an operator chasing a backlog. Its figures now
 * (live, from the overview stream), the problems and alerts about it, the nodes that fill and
 * drain it, and its history: depth, oldest age, and crashes in and out per second.
 */

import { AlertsPanel } from './AlertsPanel.js';
import { componentHref } from './ComponentsTable.js';
import { formatDuration, formatValue } from './format.js';
import { HistoryPanel } from './HistoryPanel.js';
import { DetailHead } from './DetailHead.js';
import { useOverview } from './live.js';
import { growingText } from './ops-view.js';
import { queueComponent } from '../../ports/ops-history.js';
import { QUEUE_CHARTS, processorsSummary, queueNodes } from './queue-page-model.js';
import { queueRatesText } from './queue-rates.js';
import { DEAD_LETTERS_URL, queueHref } from './QueuesTable.js';
import { StatusBadge } from './Status.js';
import { SubjectProblems } from './SubjectProblems.js';
import type { Overview, Problem, QueueView } from './types.js';

export function QueuePage({ name }: { name: string }) {
  const live = useOverview();
  const { overview } = live;
  const queue = overview?.queues.find((q) => q.queue === name);
  return (
    <div class="dash" data-testid="queue-page">
      <DetailHead live={live}>
        <span>
          {name} <span class="muted">queue</span>
        </span>
        {queue && growingText(queue.growingFor) ? (
          <span class="dash-growing dash-growing-head" data-testid="growing">
            {growingText(queue.growingFor)}
          </span>
        ) : null}
      </DetailHead>
      {!overview ? (
        <div class="card muted">Waiting for the first figures from the node…</div>
      ) : !queue ? (
        <div class="card" data-testid="queue-missing">
          There is no queue named <strong>{name}</strong>.{' '}
          {overview.queues.length > 0 ? (
            <>
              The queues are{' '}
              {overview.queues.map((q, i) => (
                <span key={q.queue}>
                  {i > 0 ? ', ' : ''}
                  <a href={queueHref(q.queue)}>{q.queue}</a>
                </span>
              ))}
              .
            </>
          ) : (
            'The queue reports none.'
          )}{' '}
          <a href="/dashboard">Back to the Dashboard</a>.
        </div>
      ) : (
        <QueueBody overview={overview} queue={queue} frozen={live.state.kind === 'broken'} />
      )}
    </div>
  );
}

function QueueBody({ overview, queue, frozen }: { overview: Overview; queue: QueueView; frozen: boolean }) {
  // Queue problems name the queue as their subject; so do queue alerts (rule kind queue_age).
  const problems = overview.problems.filter((p) => p.subject === queue.queue && p.kind.startsWith('queue-'));
  const alerts = (overview.alerts ?? []).filter((a) => a.subject === queue.queue);
  return (
    <div class={`dash-body ${frozen ? 'dash-frozen' : ''}`}>
      <SubjectProblems problems={problems} />
      <AlertsPanel alerts={alerts} now={overview.at} />
      <div class="dash-detail dash-queue-detail">
        <QueueFigures queue={queue} problems={problems} />
        <QueueNodes overview={overview} queue={queue.queue} />
      </div>
      <HistoryPanel component={queueComponent(queue.queue)} charts={QUEUE_CHARTS} none="No history yet: web nodes record a point a minute for each queue once their history store runs; the live figures above are current." />
    </div>
  );
}

function QueueFigures({ queue, problems }: { queue: QueueView; problems: readonly Problem[] }) {
  // The server decides what is too old (a `queue-old` problem): one threshold, not two.
  const old = problems.some((p) => p.kind === 'queue-old');
  const dead = queue.deadLetters;
  return (
    <section class="card">
      <h2>Now</h2>
      <table class="kv dash-kv dash-queue-figures" data-testid="queue-figures">
        <tbody>
          <tr data-figure="waiting">
            <th>Waiting</th>
            <td class="num">
              <strong>{queue.waiting.toLocaleString('en-GB')}</strong>
            </td>
          </tr>
          <tr data-figure="in-flight">
            <th>In flight</th>
            <td class="num">{queue.inFlight.toLocaleString('en-GB')}</td>
          </tr>
          <tr data-figure="oldest">
            <th>Oldest waiting</th>
            <td class={`num ${old ? 'dash-text-stale' : queue.oldestAgeSeconds === null ? 'muted' : ''}`}>{queue.oldestAgeSeconds === null ? 'none' : formatDuration(queue.oldestAgeSeconds)}</td>
          </tr>
          <tr data-figure="rates">
            <th title="Crashes per second put on the queue, and leaving it for good (processed or dead-lettered), over the nodes' last heartbeat intervals">In/s · out/s</th>
            <td class={`num ${queue.enqueuedPerSecond === undefined ? 'muted' : ''}`}>{queueRatesText(queue)}</td>
          </tr>
          <tr data-figure="dead-letters">
            <th>Dead letters</th>
            <td class="num">
              {dead === undefined ? (
                <span class="muted">–</span>
              ) : dead > 0 ? (
                <>
                  <span class="dash-bad">{dead.toLocaleString('en-GB')}</span> · <a href={DEAD_LETTERS_URL}>list them</a>
                </>
              ) : (
                '0'
              )}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function QueueNodes({ overview, queue }: { overview: Overview; queue: string }) {
  const rows = queueNodes(overview.components, queue);
  const summary = processorsSummary(rows);
  const rate = (value: number | undefined) => <td class={`num ${value === undefined ? 'muted' : ''}`}>{formatValue(value, 'per_second')}</td>;
  return (
    <section class="card" data-testid="queue-nodes">
      <h2>Who fills and drains it</h2>
      <p class={`small ${summary.bad ? 'dash-bad' : 'muted'}`} data-testid="processors-summary">
        {summary.text}
      </p>
      {rows.length > 0 && (
        <table class="dash-table">
          <thead>
            <tr>
              <th>Node</th>
              <th class="num">Put on</th>
              <th class="num">Processed</th>
              <th class="num">Dead-lettered</th>
              <th class="num" title="Crashes the processor works on now, from every queue">In flight</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} data-testid="queue-node" data-key={row.key} data-status={row.status}>
                <td>
                  <a href={componentHref(row.key)} class="dash-name">
                    {row.name}
                  </a>
                  <StatusBadge status={row.status} />
                </td>
                {rate(row.enqueuedPerSecond)}
                {rate(row.ackedPerSecond)}
                {rate(row.deadLetteredPerSecond)}
                <td class={`num ${row.inFlight === undefined ? 'muted' : ''}`}>{row.inFlight === undefined ? '–' : formatValue(row.inFlight, 'count')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="small muted">Rates over each node's last heartbeat interval{rows.some((r) => r.status === 'down') ? '; a down node’s are from its last heartbeat' : ''}.</p>
    </section>
  );
}
