#!/usr/bin/env node
// Makes lzma-native fast: its prebuilt binary bundles a liblzma compiled without optimisation
// (about 1.5x slower than the xz program on the same preset). This compiles lzma-native from
// its own sources with -O2 once per machine (cached by lzma-native version, Node ABI and arch)
// and installs the result where lzma-native loads it first (build/Release). When there is no
// compiler or Node headers, it says so and the prebuilt binary stays: slower, still correct.
// Runs at `npm ci` (prepare). Skip with MEDIACOMPOSE_NO_LZMA_BUILD=1.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const log = (message) => process.stderr.write(`optimize-lzma: ${message}\n`);

function main() {
  if (process.env.MEDIACOMPOSE_NO_LZMA_BUILD) return log('skipped (MEDIACOMPOSE_NO_LZMA_BUILD is set)');
  const pkgDir = path.dirname(require.resolve('lzma-native/package.json'));
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const installed = path.join(pkgDir, 'build', 'Release', 'lzma_native.node');
  const cacheRoot = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const cached = path.join(cacheRoot, 'mediacompose', `lzma-native-${version}-abi${process.versions.modules}-${process.platform}-${process.arch}-O2`, 'lzma_native.node');

  if (!fs.existsSync(cached)) {
    const built = compile(pkgDir);
    if (!built) return;
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.copyFileSync(built, `${cached}.tmp`);
    fs.renameSync(`${cached}.tmp`, cached);
  }
  fs.mkdirSync(path.dirname(installed), { recursive: true });
  fs.copyFileSync(cached, installed);
  if (!loads(pkgDir)) {
    fs.rmSync(installed, { force: true });
    return log('the optimised build does not load; keeping the prebuilt binary');
  }
  log(`using lzma-native ${version} compiled with -O2 (${cached})`);
}

/** Compiles a copy of lzma-native (with its node-addon-api) in a temp dir; returns the .node path. */
function compile(pkgDir) {
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) return void log('node-gyp not found; keeping the prebuilt binary (about 1.5x slower)');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-lzma-'));
  try {
    const modules = path.join(work, 'node_modules');
    fs.mkdirSync(modules);
    fs.cpSync(pkgDir, path.join(modules, 'lzma-native'), { recursive: true, filter: (src) => !src.includes(`${path.sep}build${path.sep}`) });
    fs.cpSync(path.dirname(require.resolve('node-addon-api/package.json')), path.join(modules, 'node-addon-api'), { recursive: true });
    const args = [nodeGyp, 'rebuild', `-j`, String(os.availableParallelism())];
    if (fs.existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
    log('compiling lzma-native with -O2 (once per machine, about half a minute)');
    execFileSync(process.execPath, args, {
      cwd: path.join(modules, 'lzma-native'),
      env: { ...process.env, CFLAGS: '-O2', CXXFLAGS: '-O2' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const out = path.join(work, 'out.node');
    fs.copyFileSync(path.join(modules, 'lzma-native', 'build', 'Release', 'lzma_native.node'), out);
    return out;
  } catch (err) {
    log(`compiling failed (${String(err.stderr ?? err.message).trim().split('\n').pop()}); keeping the prebuilt binary (about 1.5x slower)`);
    return undefined;
  }
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && fs.existsSync(p));
}

function loads(pkgDir) {
  try {
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(pkgDir)}).createCompressor({ preset: 1 }).end()`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

main();
