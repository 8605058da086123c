/** Entry of the Configurator's browser bundle (built by scripts/build-browser.mjs). */

import { render } from 'preact';
import { App } from './App.js';

const root = document.getElementById('configurator-root');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
