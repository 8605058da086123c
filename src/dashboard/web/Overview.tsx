/** `/dashboard`: problems, alerts, components, queues, storages, scheduler jobs and the topology, all live from one stream. */

import { useEffect } from 'preact/hooks';
import { AlertsPanel } from './AlertsPanel.js';
import { ComponentsTable } from './ComponentsTable.js';
import { DependenciesCard } from './DependenciesCard.js';
import { JobsCard } from './JobsCard.js';
import { LiveIndicator } from './LiveIndicator.js';
import { useOverview } from './live.js';
import { ProblemsPanel } from './ProblemsPanel.js';
import { QueuesTable } from './QueuesTable.js';
import { Topology } from './Topology.js';

export function OverviewPage() {
  const live = useOverview();
  const { overview } = live;
  // The tab's title carries the count of problems: a dashboard left in a background tab still says so.
  const count = overview?.problems.length ?? 0;
  useEffect(() => {
    document.title = `${count > 0 ? `(${count}) ` : ''}Dashboard · Mayday`;
  }, [count]);
  return (
    <div class="dash" data-testid="dashboard">
      <div class="dash-head">
        <h1>Operations Dashboard</h1>
        <LiveIndicator live={live} />
      </div>
      {overview ? (
        // Figures that no longer arrive are greyed out: a frozen page must not look all clear.
        <div class={`dash-body ${live.state.kind === 'broken' ? 'dash-frozen' : ''}`} data-testid="dashboard-body">
          <ProblemsPanel problems={overview.problems} />
          {/* Older nodes send no alerts, dependencies, jobs or dead letters: read as none. */}
          <AlertsPanel alerts={overview.alerts ?? []} now={overview.at} />
          <ComponentsTable components={overview.components} />
          <div class="dash-lower">
            <div class="dash-side">
              <QueuesTable queues={overview.queues} problems={overview.problems} deadLetters={overview.deadLetters ?? 0} />
              <DependenciesCard dependencies={overview.dependencies ?? []} />
              <JobsCard jobs={overview.jobs ?? []} now={overview.at} schedulers={overview.components.filter((c) => c.status !== 'down' && c.roles.includes('scheduler')).length} />
            </div>
            <Topology overview={overview} />
          </div>
        </div>
      ) : (
        <div class="card muted">Waiting for the first figures from the node…</div>
      )}
    </div>
  );
}
