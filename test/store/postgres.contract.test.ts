import { describeStoreContract } from './contract/describe-store-contract.js';
import { postgresHarness } from './postgres-harness.js';

// Run by `npm run test:pg` (vitest.pg.config.ts), against the PostgreSQL on 127.0.0.1:5432.
describeStoreContract(postgresHarness());
