import { PgBugLinks } from '../../src/adapters/pg-bug-links.js';
import { SqliteBugLinks } from '../../src/adapters/sqlite-bug-links.js';
import { bugLinksContract } from './bug-links.contract.js';
import { pgSkip } from './pg-support.js';
import { pgStoreSubject, sqliteStoreSubject } from './store-subjects.js';

bugLinksContract('SQLite', async (clock) => sqliteStoreSubject('mayday-bug-links-', (file) => SqliteBugLinks.open(file, { now: clock.now })));

bugLinksContract('PostgreSQL', (clock) => pgStoreSubject((at) => PgBugLinks.open({ ...at, now: clock.now })), pgSkip);
