import { describeStoreContract } from './contract/describe-store-contract.js';
import { sqliteHarness } from './sqlite-harness.js';

describeStoreContract(sqliteHarness());
