// npm puts node_modules/.bin first on PATH, so scripts run on the Node the project installs
// (devDependency `node`). Fail early and plainly if that did not happen.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`mesh-cert-watch needs Node >= 22, this is ${process.version}. Run \`npm ci\` first: it installs Node 22 into node_modules/.bin.`);
  process.exit(2);
}
