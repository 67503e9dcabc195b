/**
 * Input files that are no regular files, or far larger than real ones (issue 28, items 2 and 3):
 * /dev/zero and a FIFO as the compose file, images.xml, a details file, an archive, a checksum
 * list, a public key and a package database file; an images.xml and a compose file past their
 * size limits. Every command ends within 2 s of its start with one error line and its status,
 * in under 200 MiB, and changes nothing (the medium, the roots, the temporary folder); SIGTERM
 * during any of them ends it at once. A symlink that stays inside the medium is still read.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, mediacompose } from '../support/build.js';
import { describeIf, isRoot, unmet } from '../support/needs.js';
import type { Tree } from '../support/tree.js';
import { type Work, changesSince, mediacomposeMeasured, smallMedium, snapshot } from './hostile.js';

/** From the command's start to its end, Node's own start included. */
const BOUND_SECONDS = 2;
const RSS_MIB = 200;
const measurable = unmet({ programs: ['/usr/bin/time'] });

let work: Work;
let images: string;
let tmp: string;
beforeAll(() => {
  work = smallMedium('mc-input-files-');
  images = path.join(work.medium, 'images');
  tmp = path.join(work.dir, 'tmp');
  fs.mkdirSync(tmp);
}, 60_000);
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

type Hostile = 'zero' | 'fifo';

/** Puts /dev/zero (a symlink to it) or a FIFO in `file`'s place; returns what puts the file back. */
function putHostile(file: string, kind: Hostile): () => void {
  const saved = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  fs.rmSync(file, { force: true });
  if (kind === 'zero') fs.symlinkSync('/dev/zero', file);
  else execFileSync('mkfifo', [file]);
  return () => {
    fs.rmSync(file, { force: true });
    if (saved) fs.writeFileSync(file, saved);
  };
}

function withHostile(file: string, kind: Hostile, use: () => void): void {
  const restore = putHostile(file, kind);
  try {
    use();
  } finally {
    restore();
  }
}

/**
 * Every change to the work folder since `before`: none but the temporary folder's own mtime
 * (details makes and removes a temporary root there), which must be empty again.
 */
function changes(before: Tree): string[] {
  expect(fs.readdirSync(tmp)).toEqual([]);
  return changesSince(before, work.dir).filter((line) => !line.startsWith('tmp: mtime '));
}

/** Runs one command; checks the bounds, that nothing changed, and returns its single error line. */
function refused(args: string[], status: number): string {
  const before = snapshot(work.dir);
  const r = mediacomposeMeasured({ TMPDIR: tmp }, ...args, '--quiet');
  expect(r.seconds).toBeLessThan(BOUND_SECONDS);
  expect(r.maxRssMiB).toBeLessThan(RSS_MIB);
  expect(r.status).toBe(status);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('warning: '));
  expect(lines).toHaveLength(1);
  expect(changes(before)).toEqual([]);
  return lines[0]!;
}

const what = (kind: Hostile): string => (kind === 'zero' ? 'a character device' : 'a FIFO');

/** The refusal of a medium file: /dev/zero lies outside the medium, a FIFO is no regular file. */
function mediumRefusal(file: string, role: string, kind: Hostile): string {
  return kind === 'zero'
    ? `error: ${file}: ${role} leads outside ${work.medium} (to /dev/zero) (a symlink on a medium must stay inside it; the medium is damaged or hostile)`
    : `error: ${file}: ${role} is a FIFO, not a regular file (only a regular file is read; the medium is damaged or hostile)`;
}

describeIf(measurable, 'issue 28, items 2 and 3: /dev/zero and a FIFO in each input role', () => {
  for (const kind of ['zero', 'fifo'] as const) {
    describe(kind === 'zero' ? '/dev/zero' : 'a FIFO', () => {
      it('as the compose file: plan, build and verify exit 2 naming it', () => {
        const compose = path.join(work.dir, 'hostile.yaml');
        withHostile(compose, kind, () => {
          for (const command of ['plan', 'build', 'verify']) {
            expect(refused([command, compose], 2)).toBe(`error: ${compose}: compose file is ${what(kind)}, not a regular file (only a regular file is read; name the compose file itself)`);
          }
        });
      });

      it('as the compose file named directly (plan /dev/zero)', () => {
        if (kind !== 'zero') return;
        expect(refused(['plan', '/dev/zero'], 2)).toBe('error: /dev/zero: compose file is a character device, not a regular file (only a regular file is read; name the compose file itself)');
      });

      it('as images.xml: details, details --check and verify exit 3', () => {
        const file = path.join(images, 'images.xml');
        withHostile(file, kind, () => {
          for (const args of [['details', work.medium], ['details', work.medium, '--check'], ['verify', work.compose]]) {
            expect(refused(args, 3)).toBe(mediumRefusal(file, 'images.xml', kind));
          }
        });
      });

      it('as a details file: details, details --check and verify exit 3', () => {
        const file = path.join(images, 'details-x86_64.xml');
        withHostile(file, kind, () => {
          for (const args of [['details', work.medium], ['details', work.medium, '--check'], ['verify', work.compose]]) {
            expect(refused(args, 3)).toBe(mediumRefusal(file, 'details file', kind));
          }
        });
      });

      it('as an archive (an image and a metadata image): details, details --check and verify exit 3', () => {
        for (const name of ['a-x86_64.tar.gz', 'b-meta-x86_64.tar.gz']) {
          const file = path.join(images, name);
          withHostile(file, kind, () => {
            for (const args of [['details', work.medium], ['details', work.medium, '--check'], ['verify', work.compose]]) {
              expect(refused(args, 3)).toBe(mediumRefusal(file, 'archive', kind));
            }
          });
        }
      });

      it('as a checksum list (images/CHECKSUMS, the root content): details and verify exit 3', () => {
        for (const file of [path.join(images, 'CHECKSUMS'), path.join(work.medium, 'content')]) {
          withHostile(file, kind, () => {
            for (const args of [['details', work.medium], ['verify', work.compose]]) {
              expect(refused(args, 3)).toBe(mediumRefusal(file, 'checksum list', kind));
            }
          });
        }
      });

      it('as the public key or the signature beside a list: verify exits 3 before gpg is run', () => {
        const list = path.join(images, 'CHECKSUMS');
        fs.writeFileSync(list, '');
        fs.writeFileSync(`${list}.asc`, '');
        try {
          for (const [file, role] of [[`${list}.key`, 'public key'], [`${list}.asc`, 'signature']] as const) {
            withHostile(file, kind, () => {
              expect(refused(['verify', work.compose], 3)).toBe(mediumRefusal(file, role, kind));
            });
          }
        } finally {
          fs.rmSync(list);
          fs.rmSync(`${list}.asc`);
        }
      });

      it('as a file list of a root\'s package database: build exits 3', () => {
        const list = path.join(work.dir, 'roots', 'a', 'var', 'lib', 'dpkg', 'info', 'base-a.list');
        if (kind === 'zero') {
          // Resolved inside the root, as after chroot: the root's own /dev/zero, a device too.
          if (!isRoot) return;
          const dev = path.join(work.dir, 'roots', 'a', 'dev');
          fs.mkdirSync(dev);
          execFileSync('mknod', [path.join(dev, 'zero'), 'c', '1', '5']);
          try {
            withHostile(list, kind, () => {
              expect(refused(['build', work.compose], 3)).toBe(`error: ${path.join(dev, 'zero')}: package database file is a character device, not a regular file (only a regular file is read; the root or medium is damaged or hostile)`);
            });
          } finally {
            fs.rmSync(dev, { recursive: true });
          }
          return;
        }
        withHostile(list, kind, () => {
          expect(refused(['build', work.compose], 3)).toBe(`error: ${list}: package database file is a FIFO, not a regular file (only a regular file is read; the root or medium is damaged or hostile)`);
        });
      });
    });
  }

  it('an rpm database just past 1 GiB (sparse): build refuses it by its size, without reading it', () => {
    const size = 1024 ** 3 + (1 << 20);
    const dir = path.join(work.dir, 'roots', 'a', 'usr', 'lib', 'sysimage', 'rpm');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'rpmdb.sqlite');
    fs.closeSync(fs.openSync(file, 'w'));
    fs.truncateSync(file, size);
    try {
      expect(refused(['build', work.compose], 3)).toBe(
        `error: ${file}: package database file of ${size} bytes is larger than 1 GiB, the most read (a real one is far smaller; the root or medium is damaged or hostile)`,
      );
    } finally {
      fs.rmSync(path.join(work.dir, 'roots', 'a', 'usr'), { recursive: true });
    }
  });

  it('an images.xml of 64 MiB (a million images): refused by its size before it is parsed', () => {
    const file = path.join(images, 'images.xml');
    const saved = fs.readFileSync(file, 'utf8');
    const image = '<image><name>x</name><type>tar</type><file>x.tar.gz</file></image>';
    fs.writeFileSync(file, saved.replace('<images config:type="list">', `<images config:type="list">${image.repeat(Math.ceil((64 << 20) / image.length))}`));
    const size = fs.statSync(file).size;
    try {
      for (const args of [['details', work.medium, '--check'], ['verify', work.compose]]) {
        expect(refused(args, 3)).toBe(`error: ${file}: images.xml of ${size} bytes is larger than 1 MiB, the most read (a real one is far smaller; the medium is damaged or hostile)`);
      }
    } finally {
      fs.writeFileSync(file, saved);
    }
  });

  it('a compose file of 2 MiB: exit 2 naming its size', () => {
    const compose = path.join(work.dir, 'big.yaml');
    fs.writeFileSync(compose, `# ${'x'.repeat(2 << 20)}\n${fs.readFileSync(work.compose, 'utf8')}`);
    try {
      expect(refused(['plan', compose], 2)).toBe(`error: ${compose}: compose file of ${fs.statSync(compose).size} bytes is larger than 1 MiB, the most read (a real one is far smaller; name the compose file itself)`);
    } finally {
      fs.rmSync(compose);
    }
  });
});

describeIf(measurable, 'files mediacompose keeps for itself', () => {
  it('a FIFO as the image cache\'s remembered digests: build ignores it and succeeds, in a few seconds', () => {
    const cache = path.join(work.dir, 'cache');
    const memo = path.join(cache, 'file-digests', os.hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host');
    fs.mkdirSync(path.dirname(memo), { recursive: true });
    execFileSync('mkfifo', [memo]);
    try {
      const r = mediacomposeMeasured({ TMPDIR: tmp }, 'build', work.compose, '--quiet', '--cache', cache);
      expect(r.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('warning: no checksums key'))).toEqual([]);
      expect(r.status).toBe(0);
      expect(r.seconds).toBeLessThan(10);
      // Written again as a regular file at the end of the build.
      expect(fs.lstatSync(memo).isFile()).toBe(true);
    } finally {
      fs.rmSync(cache, { recursive: true });
    }
  });
});

describe('symlinks that stay where they may', () => {
  it('images.xml linking to a file inside the medium is read: details --check says current', () => {
    const file = path.join(images, 'images.xml');
    const real = path.join(work.medium, 'images.xml.real');
    fs.renameSync(file, real);
    fs.symlinkSync('../images.xml.real', file);
    try {
      const r = mediacompose('details', work.medium, '--check', '--quiet');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(file);
      fs.renameSync(real, file);
    }
  });

  it('a compose file linking to a regular file is read', () => {
    const link = path.join(work.dir, 'linked.yaml');
    fs.symlinkSync(work.compose, link);
    try {
      const r = mediacompose('plan', link, '--quiet', '--no-estimate');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(link);
    }
  });
});

describe('SIGTERM during a command given a FIFO or /dev/zero', () => {
  /** Starts a command, sends SIGTERM `delay` ms later (it may have ended): the ms it took to end after that, and how. */
  async function terminated(args: string[], delay: number): Promise<{ afterSignal: number; status: number | null; signal: NodeJS.Signals | null }> {
    const child = spawn(process.execPath, [BIN, ...args, '--quiet'], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
    const ended = new Promise<{ status: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.on('exit', (status, signal) => resolve({ status, signal, at: performance.now() })),
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
    const signalled = performance.now();
    child.kill('SIGTERM');
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await ended;
    clearTimeout(watchdog);
    return { afterSignal: Math.max(0, r.at - signalled), status: r.status, signal: r.signal };
  }

  for (const [role, file, args] of [
    ['images.xml', () => path.join(images, 'images.xml'), () => ['verify', work.compose]],
    ['an archive', () => path.join(images, 'a-x86_64.tar.gz'), () => ['details', work.medium]],
    ['the compose file', () => path.join(work.dir, 'hostile.yaml'), () => ['build', path.join(work.dir, 'hostile.yaml')]],
  ] as const) {
    for (const kind of ['zero', 'fifo'] as const) {
      it(`${kind === 'zero' ? '/dev/zero' : 'a FIFO'} as ${role}: SIGTERM at any moment ends it within 2 s (refused already, or by the signal)`, async () => {
        const restore = putHostile(file(), kind);
        try {
          // While Node starts, while the command reads its input, and after it is refused.
          for (const delay of [150, 400, 700, 1000]) {
            const before = snapshot(work.dir);
            const r = await terminated([...args()], delay);
            expect(r.afterSignal).toBeLessThan(2000);
            expect(r.signal === 'SIGTERM' || r.status === 2 || r.status === 3).toBe(true);
            expect(changes(before)).toEqual([]);
          }
        } finally {
          restore();
        }
      }, 30_000);
    }
  }
});
