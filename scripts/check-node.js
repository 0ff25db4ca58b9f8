// Fails early, in one line, when the Node.js running the scripts is too old.
// `npm install` brings Node 24 as a dev dependency (the registry's `node` package);
// npm puts node_modules/.bin first on PATH for scripts, so `node` there is Node 24.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`custody: Node.js 24 or later is required (found ${process.version}); run \`npm install\` first`);
  process.exit(1);
}
