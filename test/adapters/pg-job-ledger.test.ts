import { PgJobLedger } from '../../src/adapters/pg-job-ledger.js';
import { jobLedgerContract } from './job-ledger.contract.js';
import { dropSchema, freshSchema, pgSkip, pgUrl } from './pg-support.js';

jobLedgerContract(
  'PostgreSQL',
  async () => {
    const schema = freshSchema();
    const ledger = await PgJobLedger.open({ connectionString: pgUrl, schema });
    return {
      ledger,
      dispose: async () => {
        await ledger.close();
        await dropSchema(schema);
      },
    };
  },
  pgSkip,
);
