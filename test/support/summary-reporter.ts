import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the slowest test files and one plain closing line, `Summary: N passed, N failed,
 * N skipped`, after the default reporter's output, so that CI logs state the counts in a
 * form any tool can read.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    // The slowest files, so that a growing suite shows where its time goes (CI allows 15 minutes).
    const slowest = [...testModules]
      .map((module) => ({ file: module.moduleId.replace(`${process.cwd()}/`, ''), ms: module.diagnostic().duration }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 15);
    process.stdout.write(`\nSlowest test files:\n${slowest.map((s) => `  ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.file}`).join('\n')}\n`);
    process.stdout.write(`\nSummary: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
