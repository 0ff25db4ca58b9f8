#!/usr/bin/env node
// Entry point of the `custody` command. Node 24 runs the TypeScript sources directly.
// node:sqlite still announces itself as experimental; that warning tells users nothing
// actionable, every other warning is printed as usual.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning') return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`custody: Node.js 24 or later is required (found ${process.version})\n`);
  process.exit(1);
}
// Node caches the compiled (type-stripped) sources between runs: a client command starts
// in about half the time.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
