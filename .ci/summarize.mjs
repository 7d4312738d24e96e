// Prints "N passed, N failed" from vitest's JSON reports (report, exit status, report, exit status, ...);
// a missing report (the build or the runner itself failed) counts as one failure so CI can never read
// a broken run as green.
import fs from 'node:fs';

const args = process.argv.slice(2);
let passed = 0;
let failed = 0;
let allOk = true;
for (let i = 0; i < args.length; i += 2) {
  const reportPath = args[i];
  const status = Number(args[i + 1] ?? 1);
  let runFailed = 0;
  try {
    const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
    passed += report.numPassedTests ?? 0;
    runFailed = report.numFailedTests ?? 0;
    // A suite that failed to load has no failed tests but must still fail the run.
    runFailed += (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).every((a) => a.status !== 'failed')).length;
  } catch {
    runFailed = 1;
  }
  if (status !== 0 && runFailed === 0) runFailed = 1;
  failed += runFailed;
  if (status !== 0) allOk = false;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && allOk ? 0 : 1);
