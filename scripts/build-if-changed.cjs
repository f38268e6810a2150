#!/usr/bin/env node
// `npm start` runs this first: it builds `dist/` only when a source is newer than the last
// build, so starting right after `npm install` (which builds) does not compile again.
// Usage: node scripts/build-if-changed.cjs [--dry-run] [root]
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

/** What a build reads: TypeScript under src/, and the compiler and package settings. */
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
/** The build's marker: written by every `tsc` run that emits. */
const OUTPUT = path.join('dist', 'server', 'main.js');

function newestSource(root) {
  let newest = { file: undefined, mtimeMs: 0 };
  const consider = (file) => {
    const { mtimeMs } = statSync(file);
    if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) consider(full);
    }
  };
  if (existsSync(path.join(root, 'src'))) walk(path.join(root, 'src'));
  for (const name of INPUT_FILES) if (existsSync(path.join(root, name))) consider(path.join(root, name));
  return newest;
}

/** Why `dist/` must be rebuilt, or undefined when it is up to date. */
function staleReason(root) {
  const output = path.join(root, OUTPUT);
  if (!existsSync(output)) return `${OUTPUT} does not exist`;
  const built = statSync(output).mtimeMs;
  const newest = newestSource(root);
  if (newest.mtimeMs > built) return `${path.relative(root, newest.file)} changed since the last build`;
  return undefined;
}

module.exports = { staleReason };

if (require.main === module) {
  const args = process.argv.slice(2);
  const dryRun = args.includes('--dry-run');
  const root = path.resolve(args.find((arg) => !arg.startsWith('--')) ?? path.join(__dirname, '..'));
  const reason = staleReason(root);
  if (!reason) {
    process.stdout.write('dist/ is up to date: not rebuilding\n');
  } else {
    process.stdout.write(`rebuilding dist/: ${reason}\n`);
    if (!dryRun) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
