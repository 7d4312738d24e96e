// Prints "N passed, N failed" from vitest's JSON report; a missing report (the build or the
// runner itself failed) counts as one failure so CI can never read a broken run as green.
import fs from 'node:fs';

const [reportPath, statusText] = process.argv.slice(2);
const status = Number(statusText ?? 1);
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  // A suite that failed to load has no failed tests but must still fail the run.
  const brokenSuites = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).every((a) => a.status !== 'failed')).length;
  failed += brokenSuites;
} catch {
  failed = 1;
}
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && status === 0 ? 0 : 1);
