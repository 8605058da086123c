/**
 * The Crash Stats pages, one module each under `pages/`; this module gathers them for the
 * plugin.
 */
export { homePage, type HomeView } from './pages/home.js';
export { topCrashersPage, type TopCrashersView } from './pages/top-crashers.js';
export { signaturePage, SIGNATURE_FACETS, SIGNATURE_REPORT_COLUMNS, type SignatureView } from './pages/signature.js';
export { searchPage, searchState, splitValue, OPERATORS, type SearchState, type SearchView, type FilterRow } from './pages/search.js';
export { reportPage, pendingPage, notFoundPage, errorPage, type Viewer } from './pages/report.js';
