/**
 * The usual subject of a store's contract suite: the store on a database of its own, and
 * how to throw that database away. For suites whose subject is just `{ store, dispose }`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, freshSchema, pgUrl } from './pg-support.js';

interface Closable {
  close(): Promise<void>;
}

export interface StoreSubject<S> {
  store: S;
  dispose(): Promise<void>;
}

/** The store on a fresh SQLite file in a directory of its own, removed afterwards. */
export function sqliteStoreSubject<S extends Closable>(prefix: string, open: (file: string) => S): StoreSubject<S> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = open(join(dir, 'mayday.sqlite'));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The store in a fresh PostgreSQL schema, dropped afterwards. */
export async function pgStoreSubject<S extends Closable>(open: (at: { connectionString: string; schema: string }) => Promise<S>): Promise<StoreSubject<S>> {
  const schema = freshSchema();
  const store = await open({ connectionString: pgUrl, schema });
  return {
    store,
    dispose: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
}
