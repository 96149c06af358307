/** docs/architecture.md names files and folders as the seams to use: every one must exist, or the map misleads. */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARCHITECTURE = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');

/** Backticked repository paths, such as `src/ports/events.ts` or `src/kube`; a `*` stands for any function. */
function namedPaths(text: string): string[] {
  const paths = [...text.matchAll(/`((?:src|lib|functions|docs|test|bin)\/[^`\s]*)`/g)].map((match) => match[1]!);
  return [...new Set(paths)];
}

describe('docs/architecture.md', () => {
  const paths = namedPaths(ARCHITECTURE);

  it('names the ports and the folders it is about', () => {
    expect(paths).toEqual(expect.arrayContaining(['src/ports/events.ts', 'src/ports/clusters.ts', 'src/ports/notification.ts', 'src/core/model', 'src/sandbox']));
  });

  it.each(namedPaths(ARCHITECTURE))('%s exists', (path) => {
    const concrete = path.replace('*', 'sampler');
    expect(existsSync(`${ROOT}${concrete}`)).toBe(true);
  });

  it('lists every port file there is', () => {
    const portFiles = readdirSync(`${ROOT}src/ports`).map((name) => `src/ports/${name}`);
    expect(portFiles.length).toBeGreaterThanOrEqual(6);
    expect(paths).toEqual(expect.arrayContaining(portFiles));
  });
});
