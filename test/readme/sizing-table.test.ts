/**
 * The README's sizing table ("Scale and sizing") is what the sizing model computes from the
 * measured figures: a change to the model, a default (schedule, exec budget, max observation age)
 * or a benchmark figure that moves a row fails here until the README says so.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_EXEC_STARTS_PER_SECOND } from '../../src/core/judgement/sampling-defaults.js';
import { SIZING_ROWS, sizeSampler, sizingTableRow } from '../../src/sandbox/simulation/sizing.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function readmeRows(): string[] {
  const section = /<!-- sizing begin -->([\s\S]*?)<!-- sizing end -->/.exec(README)?.[1];
  if (!section) throw new Error('README.md has no sizing section');
  return section.split('\n').filter((line) => /^\| [\d,]+ \|/.test(line));
}

describe('README sizing table', () => {
  it('has one row per sizing input, each as the model computes it', () => {
    expect(readmeRows()).toEqual(SIZING_ROWS.map((row) => sizingTableRow(sizeSampler(row))));
  });

  it('states the ceiling of one invocation: the exec budget over the longest sampling window of a 5-minute schedule', () => {
    const ceiling = sizeSampler({ pods: 1, dueBased: true }).ceilingExecsPerSweep;
    expect(ceiling).toBe(DEFAULT_MAX_EXEC_STARTS_PER_SECOND * (300 - 20 - 40));
    expect(README).toContain(`${ceiling.toLocaleString('en-US')} execs per sweep`);
  });

  it('sizes a cluster past the ceiling as not fitting, and sampling every pod of 50,000 as impossible at any size', () => {
    const row = sizeSampler({ pods: 50_000, dueBased: false });
    expect(row.fits).toBe(false);
    expect(row.execsPerSweep).toBe(50_000);
    expect(sizeSampler({ pods: 1_000, dueBased: true }).fits).toBe(true);
  });
});
