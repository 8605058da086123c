import { PgAlertState } from '../../src/adapters/pg-alert-state.js';
import { SqliteAlertState } from '../../src/adapters/sqlite-alert-state.js';
import { alertStateContract } from './alert-state.contract.js';
import { pgSkip } from './pg-support.js';
import { pgStoreSubject, sqliteStoreSubject } from './store-subjects.js';

alertStateContract('SQLite', async () => sqliteStoreSubject('mayday-alert-state-', (file) => SqliteAlertState.open(file)));

alertStateContract('PostgreSQL', () => pgStoreSubject((at) => PgAlertState.open(at)), pgSkip);
