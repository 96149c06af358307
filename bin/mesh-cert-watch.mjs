#!/usr/bin/env node
// CLI launcher: runs the TypeScript sources directly through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`mesh-cert-watch needs Node >= 22 (this is ${process.version}); run it with \`npx mesh-cert-watch\` after \`npm ci\`.`);
  process.exit(2);
}
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
