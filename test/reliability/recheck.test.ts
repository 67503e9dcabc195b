/**
 * The tar writer re-checks every file against the scan while it archives it: a file that grew,
 * shrank, was rewritten in place or whose compared content changed is an input error (exit 3)
 * naming it, never a silently inconsistent archive. The tar stream is a synchronous generator,
 * so each change is made at an exact point between two chunks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tarChunks } from '../../src/archive/tar-stream.js';
import { InputError } from '../../src/errors.js';
import type { Member } from '../../src/model/member.js';
import { digestFile } from '../../src/scan/digest.js';
import { scanRoot } from '../../src/scan/walk.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-recheck-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const MiB = 1 << 20;
const PAST = new Date('2020-01-01T00:00:00Z');

/** A root holding one 3 MiB file with an old mtime; returns its member as the plan makes it. */
async function rootWithFile(): Promise<{ root: string; file: string; member: Member }> {
  const root = fs.mkdtempSync(path.join(work, 'root-'));
  const file = path.join(root, 'data');
  fs.writeFileSync(file, Buffer.alloc(3 * MiB, 7));
  fs.utimesSync(file, PAST, PAST);
  const entry = (await scanRoot(root)).entries.find((e) => e.path === 'data')!;
  return { root, file, member: { entry, root } };
}

/** Runs the tar generator; `between` runs once, after the first chunk. */
function writeTar(members: Member[], between: () => void = () => {}): number {
  const totals = { bytes: 0, members: 0 };
  let chunks = 0;
  for (const _ of tarChunks(members, totals)) if (++chunks === 1) between();
  return totals.bytes;
}

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('re-checking files while writing', () => {
  it('writes an unchanged file, also one whose digest the scan took', async () => {
    const { root, member } = await rootWithFile();
    expect(writeTar([{ ...member, digest: digestFile(root, member.entry) }])).toBe(Math.ceil((512 + 3 * MiB + 1024) / 10240) * 10240);
  });

  it('reports a file that grew while it was read', async () => {
    const { file, member } = await rootWithFile();
    const err = inputError(() => writeTar([member], () => fs.appendFileSync(file, 'more')));
    expect(err.exitStatus).toBe(3);
    expect(err.message).toBe(`${file}: file grew while being archived (3145728 bytes when scanned) (do not change the roots during a build)`);
  });

  it('reports a file that shrank while it was read', async () => {
    const { file, member } = await rootWithFile();
    const err = inputError(() => writeTar([member], () => fs.truncateSync(file, MiB)));
    expect(err.message).toBe(`${file}: file shrank while being archived (3145728 bytes when scanned) (do not change the roots during a build)`);
  });

  it('reports a file rewritten in place with the same size', async () => {
    const { file, member } = await rootWithFile();
    const err = inputError(() => writeTar([member], () => fs.writeFileSync(file, Buffer.alloc(3 * MiB, 8))));
    expect(err.message).toBe(`${file}: file was modified while being archived (its mtime changed after the scan) (do not change the roots during a build)`);
  });

  it('reports compared content that changed even when size and mtime were kept', async () => {
    const { root, file, member: scanned } = await rootWithFile();
    const member = { ...scanned, digest: digestFile(root, scanned.entry) };
    const rewriteKeepingMtime = (): void => {
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.from('changed'), 0, 7, 2 * MiB + 5);
      fs.closeSync(fd);
      fs.utimesSync(file, PAST, PAST);
    };
    const err = inputError(() => writeTar([member], rewriteKeepingMtime));
    expect(err.message).toBe(`${file}: file content changed after the scan compared it with the other roots (do not change the roots during a build)`);
  });

  it('reports a file removed after the scan', async () => {
    const { root, file, member } = await rootWithFile();
    const other = { ...member, entry: { ...member.entry, path: 'data2' } };
    fs.copyFileSync(file, path.join(root, 'data2'));
    const err = inputError(() => writeTar([member, other], () => fs.rmSync(path.join(root, 'data2'))));
    expect(err.message).toBe(`${root}/data2: file disappeared after the scan (do not change the roots during a build)`);
  });

  it('reports a root removed after the scan', async () => {
    const { root, member } = await rootWithFile();
    const other = { ...member, entry: { ...member.entry, path: 'data2' } };
    fs.copyFileSync(path.join(root, 'data'), path.join(root, 'data2'));
    const err = inputError(() => writeTar([member, other], () => fs.rmSync(root, { recursive: true })));
    expect(err.message).toBe(`${root}: root disappeared during the build (do not move or remove the roots during a build)`);
  });
});
