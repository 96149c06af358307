/**
 * Prints one plain `N passed, N failed` line after jest's own summary (CI logs read it), and,
 * when MCW_TEST_TOTALS names a file, appends the counts there so .ci/run can total its tiers.
 */
import { appendFileSync } from 'node:fs';

export default class PlainSummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    console.log(`\n${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    if (process.env.MCW_TEST_TOTALS) appendFileSync(process.env.MCW_TEST_TOTALS, `${results.numPassedTests} ${failed} ${skipped}\n`);
  }
}
