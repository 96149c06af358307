/** Table printing shared by the benchmark sections. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  console.log(`\n## ${title}`);
  console.log(all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n'));
}

export const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
