// The stackwalk worker when Mayday runs from its TypeScript sources (tests, `tsx`
// benchmarks): a worker thread does not inherit the parent's TypeScript loader, so it
// registers tsx before loading `stackwalk-worker.ts`. The build runs the compiled
// `dist/node/stackwalk-worker.js` directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
const { default: walk } = await import('./stackwalk-worker.ts');
export default walk;
