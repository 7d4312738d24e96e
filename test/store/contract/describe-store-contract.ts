import { afterAll, beforeAll, describe } from 'vitest';
import { describeArbitrationContract } from './arbitration.contract.js';
import { describeCrashRecoveryContract } from './crash-recovery.contract.js';
import { describeFingerprintsContract } from './fingerprints.contract.js';
import { describeInstancesContract } from './instances.contract.js';
import { describeLifecycleContract } from './lifecycle.contract.js';
import { describeLimitsContract } from './limits.contract.js';
import { describePositionsContract } from './positions.contract.js';
import { describeQueueContract } from './queue.contract.js';
import { describeSettingsContract } from './settings.contract.js';
import { describeSignalLogContract } from './signal-log.contract.js';
import type { StoreHarness } from './store-harness.js';
import { describeUsersContract } from './users.contract.js';

/**
 * The store contract (src/store/store.ts), every part of it, against one implementation. A test
 * file per implementation calls it with its harness:
 *
 *   describeStoreContract(sqliteHarness());   // test/store/sqlite.contract.test.ts
 */
export function describeStoreContract(harness: StoreHarness): void {
  describe(`store contract: ${harness.name}`, () => {
    beforeAll(async () => {
      await harness.setup?.();
    });
    afterAll(async () => {
      await harness.cleanup();
      await harness.teardown?.();
    });
    describeLifecycleContract(harness);
    describeUsersContract(harness);
    describePositionsContract(harness);
    describeArbitrationContract(harness);
    describeQueueContract(harness);
    describeFingerprintsContract(harness);
    describeSignalLogContract(harness);
    describeSettingsContract(harness);
    describeCrashRecoveryContract(harness);
    describeInstancesContract(harness);
    describeLimitsContract(harness);
  });
}
