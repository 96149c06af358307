/**
 * The README's cost table is what `simulate` prints: each row's options are run and its four
 * figures compared, so a change to the model, the defaults or the metric set that moves the bill
 * fails here until the README says so.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runCli } from '../support/cli.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function costRows(): Array<{ options: string[]; figures: string[] }> {
  const section = /<!-- look:cost begin -->([\s\S]*?)<!-- look:cost end -->/.exec(README)?.[1];
  if (!section) throw new Error('README.md has no look:cost section');
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `--pods'))
    .map((line) => {
      const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
      return { options: cells[0]!.replace(/`/g, '').split(/\s+/), figures: cells.slice(1).map((cell) => cell.replace(/\*/g, '')) };
    });
}

describe('README cost table', () => {
  it('has rows from 100 to 10,000 pods, fixed per cluster at most $3', () => {
    const rows = costRows();
    expect(rows.map((row) => row.options[1])).toEqual(['100', '1000', '5000', '10000']);
    for (const row of rows) expect(Number(row.figures[0]!.slice(1))).toBeLessThanOrEqual(3);
  });

  it('agrees with `simulate` for every row', async () => {
    for (const row of costRows()) {
      const run = await runCli(['simulate', ...row.options, '--broken', '5%', '--hours', '24']);
      expect(run.code).toBe(0);
      const figure = (pattern: RegExp): string => pattern.exec(run.stdout)?.[1] ?? `(not printed: ${pattern})`;
      expect([
        figure(/^per cluster, whatever its size:\s+(\$[\d.,]+)$/m),
        figure(/^for [\d,]+ pods:\s+(\$[\d.,]+)$/m),
        figure(/^per deployment, whatever its clusters:\s+(\$[\d.,]+)$/m),
        figure(/^cost of [\d,]+ pods per month: (\$[\d.,]+) /m),
      ]).toEqual(row.figures);
    }
  });
});
