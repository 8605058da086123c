/** Entry of the Operations Dashboard's browser bundle (built by scripts/build-browser.mjs). */

import { render } from 'preact';
import { ComponentPage } from './ComponentPage.js';
import { OverviewPage } from './Overview.js';

const root = document.getElementById('dashboard-root');
if (root) {
  const component = root.dataset.component;
  root.textContent = '';
  render(root.dataset.page === 'component' && component ? <ComponentPage name={component} /> : <OverviewPage />, root);
}
