import { openPgAuth, openSqliteAuth } from './auth-subjects.js';
import { pgSkip } from './pg-support.js';
import { tokenStoreContract } from './token-store.contract.js';

tokenStoreContract('SQLite', openSqliteAuth);
tokenStoreContract('PostgreSQL', openPgAuth, pgSkip);
