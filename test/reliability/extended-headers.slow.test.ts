/**
 * Bounded memory on hostile archives (case 3 of the hostile-media review), measured with GNU
 * time: a pax `x` header or a GNU `L` long name claiming hundreds of MiB is refused at its
 * header ("extended header too large", exit 3) instead of being collected into memory, and a
 * metadata image cannot make `details` write more than a bounded package database to TMPDIR.
 * Also: a damaged header checksum is reported at the header's own byte offset (case 12), and
 * a pax global header put in front of an image is applied as GNU tar applies it: verify names
 * every member and field it changes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeIf, unmet } from '../support/needs.js';
import { mediacompose } from '../support/build.js';
import { type Work, changesSince, mediacomposeMeasured, paxData, smallMedium, snapshot, tarHeader, tarStream } from './hostile.js';

const MiB = 1 << 20;
/** Peak RSS allowed: Node itself takes about 60 MiB; the hostile headers below claim 256 MiB. */
const RSS_BOUND_MIB = 160;

let work: Work;
let archive: string;
let saved: Buffer;
let tmp: string;
beforeAll(() => {
  work = smallMedium('mc-extended-');
  archive = path.join(work.medium, 'images', 'a-x86_64.tar.gz');
  saved = fs.readFileSync(archive);
  tmp = path.join(work.dir, 'tmp');
  fs.mkdirSync(tmp);
}, 60_000);
afterEach(() => fs.writeFileSync(archive, saved));
afterAll(() => fs.rmSync(work.dir, { recursive: true, force: true }));

/**
 * A gzip file of one header whose body is `bodyMiB` MiB of zeros (really present, so that a
 * reader collecting it would hold it all), written as concatenated gzip members.
 */
function bigHeaderArchive(type: 'x' | 'L', bodyMiB: number): Buffer {
  const header = tarHeader({ name: type === 'x' ? 'PaxHeaders/big' : '././@LongLink', type, size: bodyMiB * MiB });
  const zeros = gzipSync(Buffer.alloc(16 * MiB));
  return Buffer.concat([gzipSync(header), ...Array.from({ length: bodyMiB / 16 }, () => zeros), gzipSync(Buffer.alloc(10240 - 512))]);
}

describeIf(unmet({ programs: ['/usr/bin/time'] }), 'case 3: extended headers are capped', () => {
  for (const type of ['x', 'L'] as const) {
    for (const command of ['details', 'verify'] as const) {
      it(`a ${type} header of 256 MiB: ${command} exits 3 "extended header too large" within ${RSS_BOUND_MIB} MiB`, () => {
        fs.writeFileSync(archive, bigHeaderArchive(type, 256));
        const before = snapshot(work.dir);
        const r = command === 'details' ? mediacomposeMeasured({ TMPDIR: tmp }, 'details', work.medium, '--check') : mediacomposeMeasured({ TMPDIR: tmp }, 'verify', work.compose);
        expect(r.maxRssMiB).toBeLessThan(RSS_BOUND_MIB);
        const line = `${archive}: extended header too large: ${256 * MiB} bytes at byte 0 (type ${type}; at most 4 MiB is read)`;
        if (command === 'details') {
          expect(r.status).toBe(3);
          expect(r.stderr).toContain(`error: ${line} (real pax and GNU long-name headers hold a few hundred bytes; the archive is damaged or hostile)\n`);
        } else {
          // verify reports an unreadable archive as a difference of the medium.
          expect(r.status).not.toBe(0);
          expect(r.stdout + r.stderr).toContain('extended header too large: 268435456 bytes at byte 0');
        }
        expect(changesSince(before, work.dir).filter((l) => !l.startsWith('tmp: mtime '))).toEqual([]);
        expect(fs.readdirSync(tmp)).toEqual([]);
      }, 60_000);
    }
  }
});

describeIf(unmet({ programs: ['/usr/bin/time'] }), 'case 3: what a metadata image may put in a temporary package-database root', () => {
  it('a var/lib/dpkg/status claiming 3 GiB: exit 3 before a byte is written to TMPDIR', () => {
    const meta = path.join(work.medium, 'images', 'a-meta-x86_64.tar.gz');
    const savedMeta = fs.readFileSync(meta);
    const dirs = ['var/', 'var/lib/', 'var/lib/dpkg/'].map((name) => ({ name, type: '5' }));
    const head = tarStream(dirs).subarray(0, 3 * 512);
    // The status member's header and 16 MiB of its body; the stream ends there (the reader stops first).
    fs.writeFileSync(meta, Buffer.concat([gzipSync(head), gzipSync(tarHeader({ name: 'var/lib/dpkg/status', size: 3 * 1024 ** 3 })), gzipSync(Buffer.alloc(16 * MiB))]));
    try {
      const before = snapshot(work.dir);
      const r = mediacomposeMeasured({ TMPDIR: tmp }, 'details', work.medium, '--check');
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(
        `error: ${meta}: var/lib/dpkg/status: package database file of ${3 * 1024 ** 3} bytes is too large (at most 256 MiB, 2048 MiB for all) (a real package database is far smaller; the archive is damaged or hostile)\n`,
      );
      expect(r.maxRssMiB).toBeLessThan(RSS_BOUND_MIB);
      expect(changesSince(before, work.dir).filter((l) => !l.startsWith('tmp: mtime '))).toEqual([]);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.writeFileSync(meta, savedMeta);
    }
  }, 60_000);
});

describe('case 12: header checksum errors name the header offset', () => {
  it('the third header damaged: "bad header checksum at byte 1536"', () => {
    const members = [
      { name: 'etc/', type: '5' },
      { name: 'etc/a', data: Buffer.from('a\n') },
      { name: 'etc/b', data: Buffer.from('b\n') },
    ];
    const tar = tarStream(members);
    // Headers at 0, 512 and (after etc/a's one data block) 1536.
    expect(tar.subarray(1536, 1541).toString()).toBe('etc/b');
    tar[1536 + 148] = '7'.charCodeAt(0);
    fs.writeFileSync(archive, gzipSync(tar));
    const r = mediacompose('details', work.medium, '--check');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`error: ${archive}: bad header checksum at byte 1536 (the archive is damaged)\n`);
  });
});

/**
 * `tar` with a header and its data put in front, still ending in two zero blocks padded to whole
 * 10240-byte records.
 */
function prepend(tar: Buffer, header: Buffer, data: Buffer): Buffer {
  let end = tar.length;
  while (end > 0 && tar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
  const body = Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512), tar.subarray(0, end), Buffer.alloc(1024)]);
  return Buffer.concat([body, Buffer.alloc((10240 - (body.length % 10240)) % 10240)]);
}

describe('a pax global header in front of an image (uid=4242 mtime=1)', () => {
  it('GNU tar applies it to every member; verify exits 1 naming each member and field that differs', () => {
    const records = paxData([['uid', '4242'], ['mtime', '1']]);
    const tampered = prepend(gunzipSync(saved), tarHeader({ name: 'pax_global_header', type: 'g', data: records }), records);
    fs.writeFileSync(archive, gzipSync(tampered));
    // As the installer extracts it.
    const deployed = path.join(tmp, 'deployed');
    fs.mkdirSync(deployed);
    execFileSync('tar', ['--numeric-owner', '--record-size=10240', '-xf', archive, '-C', deployed]);
    const hostname = fs.lstatSync(path.join(deployed, 'etc', 'hostname'));
    expect([hostname.uid, hostname.mtimeMs]).toEqual([4242, 1000]);
    fs.rmSync(deployed, { recursive: true });
    const before = snapshot(work.dir);

    const v = mediacompose('verify', work.compose);
    expect(v.status).toBe(1);
    const lines = v.stdout.split('\n').filter((l) => l.startsWith('verify: a: '));
    expect(lines.map((l) => l.replace(/mtime differs: \d+ \([^)]*\) in the root/, 'mtime differs: T in the root'))).toEqual(
      ['etc/hostname', 'etc/os-release'].flatMap((file) => [
        `verify: a: ${file}: owner differs: 0:0 in the root, 4242:0 deployed (from a-x86_64.tar.gz)`,
        `verify: a: ${file}: mtime differs: T in the root, 1 (1970-01-01T00:00:01Z) deployed (from a-x86_64.tar.gz)`,
      ]),
    );
    expect(v.stdout).toContain('verify: 4 differences (a 4)');
    // details-x86_64.xml holds what the installer reads from it (member count, tar length), which
    // the header does not change: it is current, and only verify tells the deployed tree.
    const d = mediacompose('details', work.medium, '--check');
    expect(d.status).toBe(0);
    expect(changesSince(before, work.dir)).toEqual([]);
  });
});
