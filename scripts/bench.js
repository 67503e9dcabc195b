#!/usr/bin/env node
// Benchmark (not a test): mediacompose build against a release engineer's shell pipeline.
//
//   npm run bench              real roots: a cold build (xz, default level and jobs, empty image
//                              cache) vs. the same tar streams compressed by `xz -6 -T2` one
//                              after the other, alternating, at least three pairs; sizes against
//                              one archive per root; then the image cache and shards: a warm
//                              rebuild, one file changed in a copy of one root, two shards run by
//                              GNU parallel and the assembling build; peak RSS of the process
//                              tree (the build and its encoders) at --jobs 1,2,4,8
//   npm run bench -- --scale   generated trees of 100k and 1M small entries over two imagesets:
//                              peak RSS and seconds per 100k entries
//   npm run bench -- --encoder only the encoder line: the build's xz encoder and lzma-native
//                              against xz -6 -T2 (--stream FILE, --package DIR of an install)
//
//   npm run bench -- --estimate  real roots: one build and one `plan`: plan's compressed-size
//                              estimate against the built medium, and its time against the build's
//                              (the full run prints the same after its pairs)
//
// Options: --pairs N (default 3), --roots DIR (default $MC_ROOTS or /var/tmp/mediacompose-roots),
// --no-sizes (skip the sizes against one archive per root and the encoder throughput),
// --memory-jobs LIST (the --jobs values of the memory runs, default 1,2,4,8; empty: none),
// --memory (only the memory runs),
// --lzma (also measure LZMA-alone sizes), --entries N (scale mode's largest total, default 1000000).
// Needs the real roots (scripts/real-roots.sh), GNU time (/usr/bin/time), xz, GNU parallel.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(HERE, '..', 'bin', 'mediacompose.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const flag = (name) => args.includes(`--${name}`);
const ROOTS = option('roots', process.env.MC_ROOTS ?? '/var/tmp/mediacompose-roots');
const NAMES = ['minimal', 'standard', 'python'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const print = (line) => process.stdout.write(`${line}\n`);

/** Runs a command under GNU time; returns wall seconds, peak RSS (KiB) and stdout. */
function timed(argv, options = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [seconds, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, rssKiB: rss, stdout: r.stdout };
}

function compose(dir, compression, extra = '') {
  const file = path.join(dir, 'compose.yaml');
  fs.writeFileSync(
    file,
    `version: 1\nmedium: medium\ncompression: ${compression}\narch: x86_64\n${extra}imagesets:\n` +
      NAMES.map((n, i) => `  - name: ${n}\n    patterns: [base${i ? `, ${n}` : ''}]\n    root: ${ROOTS}/${n}\n`).join(''),
  );
  return file;
}

function realRoots() {
  for (const n of NAMES) if (!fs.existsSync(path.join(ROOTS, n))) throw new Error(`${ROOTS}/${n} missing: run scripts/real-roots.sh`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-'));
  const pairs = Number(option('pairs', '3'));
  const file = compose(work, 'xz');
  print(flag('estimate')
    ? 'mediacompose plan\'s estimate vs. one build (xz, default level and jobs)'
    : `mediacompose build (xz, default level and jobs) vs. xz -6 -T2 on the same tar streams, ${pairs} alternating pairs`);

  // Every cold build gets an empty image cache of its own: it keys, compresses and stores all.
  let caches = 0;
  const freshCache = () => path.join(work, `cache-${caches++}`);
  const firstCache = freshCache();
  // The reference's input: the medium's archives, decompressed once beforehand.
  const first = timed([process.execPath, BIN, 'build', file, '--quiet', '--json', '--cache', firstCache]);
  const result = JSON.parse(first.stdout);
  const streams = pairs === 0 && flag('no-sizes') ? [] : result.images.map((image) => {
    const out = path.join(work, image.file.replace(/\.xz$/, ''));
    execFileSync('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', path.join(result.medium, 'images', image.file), out]);
    return out;
  });

  if (flag('estimate')) {
    estimateFigure(file, result, first.seconds);
    fs.rmSync(work, { recursive: true, force: true });
    return;
  }

  const builds = [];
  const references = [];
  const rss = [];
  for (let i = 0; i < pairs; i++) {
    const b = timed([process.execPath, BIN, 'build', file, '--quiet', '--json', '--cache', freshCache()]);
    builds.push(b.seconds);
    rss.push(b.rssKiB);
    const timing = JSON.parse(b.stdout).timings;
    const r = timed(['sh', '-c', 'for f; do xz -6 -T2 -c "$f" > "$f.ref.xz"; done', 'sh', ...streams]);
    references.push(r.seconds);
    print(`  pair ${i + 1}: build ${b.seconds.toFixed(1)}s, reference ${r.seconds.toFixed(1)}s, ratio ${(b.seconds / r.seconds).toFixed(3)}` +
      (timing ? `  [scan+compare ${timing.scan.toFixed(1)}s, plan ${timing.plan.toFixed(1)}s, tar ${timing.tar.toFixed(1)}s and digests ${(timing.digest ?? 0).toFixed(1)}s (overlapped), tar+compress ${timing.write.toFixed(1)}s, fsync ${(timing.sync ?? 0).toFixed(2)}s]` : ''));
  }
  if (pairs > 0) {
    const ratios = builds.map((b, i) => b / references[i]);
    print(`cold build ${median(builds).toFixed(1)}s, reference ${median(references).toFixed(1)}s: median ratio ${median(ratios).toFixed(3)} (<= 1.05 wanted)`);
  } else {
    // --pairs 0: no reference; the first build is the cold build.
    builds.push(first.seconds);
    rss.push(first.rssKiB);
    const timing = result.timings;
    print(`cold build ${first.seconds.toFixed(1)}s (no reference with --pairs 0)  [scan+compare ${timing.scan.toFixed(1)}s, plan ${timing.plan.toFixed(1)}s, tar ${timing.tar.toFixed(1)}s and digests ${timing.digest.toFixed(1)}s (overlapped), tar+compress ${timing.write.toFixed(1)}s]`);
  }
  print(`peak RSS of build: ${(Math.max(...rss) / 1024).toFixed(0)} MiB`);

  if (!flag('memory')) cacheAndShards(work, file, result, median(builds), firstCache, freshCache);
  memory(file, freshCache);
  if (flag('no-sizes')) {
    fs.rmSync(work, { recursive: true, force: true });
    return;
  }
  // Sizes: the medium against one archive per root.
  const mediumBytes = result.images.reduce((n, i) => n + i.compressedSize, 0);
  const perRoot = (compressor) =>
    NAMES.reduce((n, name) => n + Number(execFileSync('sh', ['-c', `tar --numeric-owner -cf - -C "$1" . | ${compressor} | wc -c`, 'sh', path.join(ROOTS, name)], { encoding: 'utf8' })), 0);
  const xzRoots = perRoot('xz -6 -T2');
  print(`xz: medium ${mb(mediumBytes)} vs one archive per root ${mb(xzRoots)}: ${(100 * (1 - mediumBytes / xzRoots)).toFixed(1)}% saved`);
  if (flag('lzma')) {
    const lz = JSON.parse(timed([process.execPath, BIN, 'build', compose(fs.mkdtempSync(path.join(work, 'lzma-')), 'lzma'), '--quiet', '--json']).stdout);
    const lzBytes = lz.images.reduce((n, i) => n + i.compressedSize, 0);
    const lzRoots = perRoot('xz --format=lzma -6');
    print(`lzma: medium ${mb(lzBytes)} vs one archive per root ${mb(lzRoots)}: ${(100 * (1 - lzBytes / lzRoots)).toFixed(1)}% saved`);
  }
  estimateFigure(file, result, median(builds));
  encoderThroughput(streams[0]);
  fs.rmSync(work, { recursive: true, force: true });
}

/** sha256 of every file of a medium's images folder, to compare media byte for byte. */
function mediumDigest(medium) {
  const folder = path.join(medium, 'images');
  return fs.readdirSync(folder).sort().map((name) => `${name} ${execFileSync('sha256sum', [path.join(folder, name)], { encoding: 'utf8' }).split(' ')[0]}`).join('\n');
}

/**
 * The image cache and shards, against the median cold build: a warm rebuild of the unchanged
 * roots; one file changed in a copy of one root (the real roots are shared: never touched);
 * two shards run by GNU parallel, then the assembling build.
 */
function cacheAndShards(work, file, cold, coldSeconds, cache, freshCache) {
  const coldMedium = mediumDigest(cold.medium);
  const build = (compose, ...extra) => {
    const r = timed([process.execPath, BIN, 'build', compose, '--quiet', '--json', ...extra]);
    return { ...r, json: JSON.parse(r.stdout) };
  };
  const warm = build(file, '--cache', cache);
  print(`warm rebuild: ${warm.seconds.toFixed(1)}s against the cold build's ${coldSeconds.toFixed(1)}s: ratio ${(warm.seconds / coldSeconds).toFixed(3)} (<= 0.05 wanted); ` +
    `${warm.json.cache.hits} hits, ${warm.json.cache.misses} compressed, ${mb(warm.json.digests.bytesRead)} of content read; medium ${mediumDigest(warm.json.medium) === coldMedium ? 'byte-identical' : 'DIFFERENT'}`);

  // One file changed: the largest root copied (cp -a keeps every attribute), then a byte of one
  // of its files flipped, size and mtime kept. The copy keys exactly like the original.
  const sizes = NAMES.map((n) => Number(execFileSync('du', ['-sb', path.join(ROOTS, n)], { encoding: 'utf8' }).split('\t')[0]));
  const copied = NAMES[sizes.indexOf(Math.max(...sizes))];
  const copyDir = fs.mkdtempSync(path.join(work, 'changed-'));
  execFileSync('cp', ['-a', path.join(ROOTS, copied), path.join(copyDir, copied)]);
  // Builds remember only the digests of files changed 2 s before they started: settle, as a root
  // prepared earlier in the day would be.
  execFileSync('sleep', ['2.1']);
  const changedCompose = path.join(copyDir, 'compose.yaml');
  fs.writeFileSync(changedCompose, fs.readFileSync(file, 'utf8').replace(`root: ${ROOTS}/${copied}\n`, `root: ${path.join(copyDir, copied)}\n`));
  const before = build(changedCompose, '--cache', cache);
  const target = uniqueFile(path.join(copyDir, copied), NAMES.filter((n) => n !== copied).map((n) => path.join(ROOTS, n)));
  const stat = fs.statSync(target);
  const fd = fs.openSync(target, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, Math.floor(stat.size / 2));
  byte[0] ^= 0xff;
  fs.writeSync(fd, byte, 0, 1, Math.floor(stat.size / 2));
  fs.closeSync(fd);
  fs.utimesSync(target, stat.atime, stat.mtime);
  const changed = build(changedCompose, '--cache', cache);
  const total = changed.json.images.reduce((n, i) => n + i.size, 0);
  const redone = changed.json.images.filter((i) => !i.cached);
  const share = redone.reduce((n, i) => n + i.size, 0) / total;
  print(`one file changed (${path.relative(copyDir, target)}, ${stat.size} bytes, one byte flipped, size and mtime kept): the copy of ${copied} first gave ${before.json.cache.hits} hits of ${before.json.images.length}; ` +
    `then compressed ${redone.map((i) => i.file).join(', ') || 'nothing'} (${(100 * share).toFixed(1)}% of the tar bytes; ${mb(changed.json.digests.bytesRead)} of content read) in ${changed.seconds.toFixed(1)}s: ratio to cold ${(changed.seconds / coldSeconds).toFixed(3)}`);
  fs.rmSync(copyDir, { recursive: true, force: true });

  // Two shards by GNU parallel on this host (one thread each), then the assembling build.
  const shardDir = fs.mkdtempSync(path.join(work, 'shards-'));
  const shardCompose = path.join(shardDir, 'compose.yaml');
  fs.copyFileSync(file, shardCompose);
  const shardCache = freshCache();
  const shards = timed(['parallel', '--halt', 'now,fail=1', process.execPath, BIN, 'build', shardCompose, '--shard', '{}/2', '--cache', shardCache, '--quiet', '--jobs', '1', ':::', '1', '2']);
  const assembled = build(shardCompose, '--cache', shardCache);
  print(`two shards by GNU parallel: ${shards.seconds.toFixed(1)}s (ratio to cold ${(shards.seconds / coldSeconds).toFixed(3)}); assembling build ${assembled.seconds.toFixed(1)}s: ratio ${(assembled.seconds / coldSeconds).toFixed(3)} (<= 0.1 wanted), ` +
    `${assembled.json.cache.hits} hits, ${assembled.json.cache.misses} compressed; medium ${mediumDigest(assembled.json.medium) === coldMedium ? 'byte-identical to the single build' : 'DIFFERENT'}`);
}

/** The first regular file of at least 4 KiB, in path order, that no other root has at the same path. */
function uniqueFile(root, others) {
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = fs.lstatSync(full);
      if (st.isDirectory()) {
        const found = walk(full);
        if (found) return found;
      } else if (st.isFile() && st.size >= 4096 && st.nlink === 1) {
        const rel = path.relative(root, full);
        if (!others.some((o) => fs.existsSync(path.join(o, rel)))) return full;
      }
    }
    return undefined;
  };
  const found = walk(path.join(root, 'usr'));
  if (!found) throw new Error(`no file of ${root} that the other roots lack`);
  return found;
}

/**
 * Peak memory of cold builds at --jobs 1, 2, 4, 8 (each with an empty cache): of the whole process
 * tree (the build and its xz encoders, sampled every 50 ms), since GNU time reports the largest
 * single process only.
 */
function memory(file, freshCache) {
  const rows = option('memory-jobs', '1,2,4,8').split(',').filter(Boolean).map(Number).map((jobs) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--sample-tree', process.execPath, BIN, 'build', file, '--quiet', '--json', '--cache', freshCache(), '--jobs', String(jobs)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`build --jobs ${jobs} failed: ${r.stderr.slice(-2000)}`);
    const sampled = JSON.parse(r.stderr.trim().split('\n').pop());
    const json = JSON.parse(r.stdout);
    return { jobs, tree: sampled.peakKiB / 1024, own: json.peakMemory / 2 ** 20, seconds: sampled.seconds, threads: json.threads };
  });
  for (const r of rows) print(`  --jobs ${r.jobs}: peak RSS of the process tree ${r.tree.toFixed(0)} MiB (build --json's peakMemory ${r.own.toFixed(0)} MiB), ${r.seconds.toFixed(1)}s, thread budget ${r.threads.budget} (peak ${r.threads.peak})`);
  const upper = rows.filter((r) => r.jobs >= 2).map((r) => r.tree);
  if (upper.length > 1) print(`peak RSS of the tree from --jobs 2 to 8: max/min ${(Math.max(...upper) / Math.min(...upper)).toFixed(2)} (<= 1.5 wanted; ${os.availableParallelism()} cores here)`);
}

/**
 * `--sample-tree CMD...`: runs CMD with its stdout passed through and samples the summed RSS of
 * CMD and all its descendants (from /proc) every 50 ms; prints {"peakKiB", "seconds"} last on stderr.
 */
async function sampleTree(argv) {
  const { spawn } = await import('node:child_process');
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  const treeRss = () => {
    const parent = new Map();
    for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        // The parent pid is the 2nd field after the parenthesised command name.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        parent.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // Gone meanwhile.
      }
    }
    let kib = 0;
    for (const [pid] of parent) {
      let p = pid;
      while (p > 1 && p !== child.pid) p = parent.get(p) ?? 0;
      if (p !== child.pid) continue;
      try {
        kib += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        // Gone meanwhile.
      }
    }
    return kib;
  };
  let peakKiB = 0;
  const timer = setInterval(() => (peakKiB = Math.max(peakKiB, treeRss())), 50);
  const status = await new Promise((resolve) => child.on('close', (code) => resolve(code)));
  clearInterval(timer);
  process.stderr.write(`${JSON.stringify({ peakKiB, seconds: (performance.now() - started) / 1000 })}\n`);
  process.exit(status ?? 1);
}

/**
 * plan's estimate of the compressed medium (samples through the real encoder) against what the
 * build wrote, and plan's time against the build's. Figures, not a pass/fail: wanted are an
 * estimate within 15% and a plan under a tenth of the build's time.
 */
function estimateFigure(file, built, buildSeconds) {
  const p = timed([process.execPath, BIN, 'plan', file, '--json']);
  const plan = JSON.parse(p.stdout);
  const real = new Map(built.images.map((i) => [i.file, i.compressedSize]));
  const total = built.images.reduce((n, i) => n + i.compressedSize, 0);
  const e = plan.estimate;
  print(`estimate: ${mb(e.bytes)} (${mb(e.low)} - ${mb(e.high)}) for a medium of ${mb(total)}: ${(100 * (e.bytes / total - 1)).toFixed(1)}% off (within 15% wanted)`);
  for (const image of plan.images) {
    const size = real.get(image.file);
    print(`  ${image.file}: ${mb(image.estimate.bytes)}${image.estimate.exact ? ' (compressed whole)' : ''} vs ${mb(size)}: ${(100 * (image.estimate.bytes / size - 1)).toFixed(1)}%`);
  }
  print(`estimate took ${e.seconds.toFixed(1)}s (${mb(e.sampled)} of tar compressed), whole plan ${p.seconds.toFixed(1)}s, build ${buildSeconds.toFixed(1)}s: ` +
    `plan/build ${(p.seconds / buildSeconds).toFixed(3)} (< 0.1 wanted)`);
}

/**
 * The xz encoder a build uses (the package's own compressor: the xz program where installed,
 * else lzma-native) and lzma-native's, against `xz -6 -T2` on the same stream, in alternating
 * runs. --package DIR measures an installed package (its dist/ and its node_modules).
 */
function encoderThroughput(stream) {
  const pkg = path.resolve(option('package', path.join(HERE, '..')));
  const bytes = fs.statSync(stream).size;
  const script = `
    const { FORMATS } = await import(${JSON.stringify(path.join(pkg, 'dist', 'formats', 'registry.js'))});
    const { pipeline } = await import('node:stream/promises');
    const fs = await import('node:fs');
    const c = FORMATS.xz.createCompressor(6, 2);
    await Promise.all([pipeline(fs.createReadStream(${JSON.stringify(stream)}), c.stream, fs.createWriteStream('/dev/null')), c.done]);`;
  const ours = (env) => {
    const r = timed([process.execPath, '--input-type=module', '-e', script], { env: { ...process.env, ...env } });
    return r.seconds;
  };
  const runs = { build: [], native: [], xz: [] };
  for (let i = 0; i < Number(option('pairs', '3')); i++) {
    runs.build.push(ours({ MEDIACOMPOSE_XZ_ENCODER: '' }));
    runs.xz.push(timed(['sh', '-c', 'xz -6 -T2 --check=crc64 -c "$1" > /dev/null', 'sh', stream]).seconds);
    runs.native.push(ours({ MEDIACOMPOSE_XZ_ENCODER: 'lzma-native' }));
  }
  const built = fs.existsSync(path.join(pkg, 'node_modules', 'lzma-native', 'build', 'Release', 'lzma_native.node'));
  const rate = (xs) => `${(bytes / 1e6 / median(xs)).toFixed(2)} MB/s`;
  print(`encoder on ${mb(bytes)} (${pkg}), median of ${runs.xz.length}: build's xz encoder ${rate(runs.build)}, ` +
    `lzma-native (${built ? 'compiled here' : 'prebuilt'}) ${rate(runs.native)}, xz -6 -T2 ${rate(runs.xz)}; ` +
    `time against xz -6 -T2: build ${(median(runs.build) / median(runs.xz)).toFixed(3)}, lzma-native ${(median(runs.native) / median(runs.xz)).toFixed(3)}`);
}

/** Only the encoder line: on --stream FILE, or a tar of the first real root. */
function encoderOnly() {
  let stream = option('stream', undefined);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-'));
  if (!stream) {
    const root = NAMES.map((n) => path.join(ROOTS, n)).find((r) => fs.existsSync(r));
    if (!root) throw new Error(`no real root in ${ROOTS}: run scripts/real-roots.sh, or give --stream FILE`);
    stream = path.join(work, 'root.tar');
    execFileSync('tar', ['--numeric-owner', '-cf', stream, '-C', root, '.']);
  }
  encoderThroughput(stream);
  fs.rmSync(work, { recursive: true, force: true });
}

/** N small entries over two imagesets (N/2 each, half of their files identical), gzip -1. */
function scale() {
  const largest = Number(option('entries', '1000000'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-scale-'));
  print('scale: N entries over two imagesets (half of the files identical), gzip level 1');
  // The first, tiny tree measures what every build costs whatever its size (starting Node,
  // loading modules, the attribute check): "net" figures leave it out.
  let fixed = 0;
  for (const total of [1000, largest / 10, largest]) {
    const count = total / 2;
    const dir = path.join(work, String(total));
    for (const name of ['a', 'b']) makeTree(path.join(dir, name), count, name);
    const file = path.join(dir, 'compose.yaml');
    fs.writeFileSync(file, `version: 1\nmedium: medium\ncompression: gzip\nlevel: 1\narch: x86_64\nlayering: {min_size: 1KiB}\nimagesets:\n  - name: a\n    patterns: [a]\n    root: a\n  - name: b\n    patterns: [a, b]\n    root: b\n`);
    const r = timed([process.execPath, BIN, 'build', file, '--quiet']);
    if (total === 1000) fixed = r.seconds;
    const net = (r.seconds - fixed) / (total / 1e5);
    print(`  ${total} entries: ${r.seconds.toFixed(1)}s, ${(r.seconds / (total / 1e5)).toFixed(2)}s per 100k entries` +
      (total > 1000 ? ` (net of the ${fixed.toFixed(1)}s a 1000-entry build takes: ${net.toFixed(2)}s)` : '') +
      `, peak RSS ${(r.rssKiB / 1024).toFixed(0)} MiB`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.rmSync(work, { recursive: true, force: true });
}

/** A tree of `count` entries: directories of 1000 small files; odd-numbered files differ per tree. */
function makeTree(root, count, tag) {
  const perDir = 1000;
  for (let d = 0; d * perDir < count; d++) {
    const dir = path.join(root, `d${String(d).padStart(5, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir - 1 && d * perDir + f < count; f++) {
      const p = path.join(dir, `f${f}`);
      fs.writeFileSync(p, f % 2 ? `${tag}${f}\n` : `shared ${f}\n`);
      fs.utimesSync(p, 1_700_000_000, 1_700_000_000);
    }
    fs.utimesSync(dir, 1_700_000_000, 1_700_000_000);
  }
}

if (flag('sample-tree')) await sampleTree(args.slice(args.indexOf('--sample-tree') + 1));
else if (flag('scale')) scale();
else if (flag('encoder')) encoderOnly();
else realRoots();
