/** Entry of the Operations Dashboard's browser bundle (built by scripts/build-browser.mjs). */

import { render } from 'preact';
import { ComponentPage } from './ComponentPage.js';
import { OverviewPage } from './Overview.js';
import { QueuePage } from './QueuePage.js';

const root = document.getElementById('dashboard-root');
if (root) {
  const { page, component, queue } = root.dataset;
  root.textContent = '';
  render(page === 'component' && component ? <ComponentPage name={component} /> : page === 'queue' && queue ? <QueuePage name={queue} /> : <OverviewPage />, root);
}
