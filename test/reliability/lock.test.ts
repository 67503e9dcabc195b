/**
 * The medium lock: one build at a time per medium, and a lock left by a crashed build never
 * blocks the medium forever.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OutputError } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/runtime/folder-lock.js';
import { lockMedium } from '../../src/medium/staging.js';
import { Staging } from '../../src/medium/staging.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-lock-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function medium(): string {
  return fs.mkdtempSync(path.join(work, 'medium-'));
}

/** The start time /proc gives a process, as the lock records it. */
function processStart(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function bootId(): string {
  return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

function writeLock(dir: string, owner: Record<string, unknown>): string {
  const file = path.join(dir, LOCK_FILE);
  fs.writeFileSync(file, `${JSON.stringify({ host: os.hostname(), started: '2024-01-01T00:00:00.000Z', ...owner })}\n`);
  return file;
}

/** A process that runs until the test ends. */
function liveProcess(): number {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

function refusal(run: () => unknown): OutputError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OutputError);
    return err as OutputError;
  }
  throw new Error('expected the lock to be refused');
}

describe('lockMedium', () => {
  it('writes pid, host and start time into a lock file, and removes it on release', () => {
    const dir = medium();
    const lock = lockMedium(dir);
    const owner = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: os.hostname(), boot: bootId(), processStart: processStart(process.pid) });
    expect(Date.parse(owner.started)).toBeGreaterThan(Date.now() - 60_000);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
    lock.release(); // idempotent
  });

  it('refuses a medium whose lock belongs to a running build, exit 4', () => {
    const dir = medium();
    const pid = liveProcess();
    const file = writeLock(dir, { pid, boot: bootId(), processStart: processStart(pid) });
    const before = fs.readFileSync(file, 'utf8');
    const err = refusal(() => lockMedium(dir));
    expect(err.exitStatus).toBe(4);
    expect(err.message).toBe(
      `${dir}: another build is writing this medium (pid ${pid}, started 2024-01-01T00:00:00.000Z) ` +
        `(wait for it to finish; if it no longer runs, remove ${file})`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses a second lock in the same process', () => {
    const dir = medium();
    const lock = lockMedium(dir);
    expect(refusal(() => lockMedium(dir)).message).toContain(`another build is writing this medium (pid ${process.pid},`);
    lock.release();
  });

  it('takes over the lock of a build that no longer runs, with a note', () => {
    const dir = medium();
    const pid = deadPid();
    writeLock(dir, { pid, boot: bootId() });
    const notes: string[] = [];
    const lock = lockMedium(dir, (n) => notes.push(n));
    expect(notes).toEqual([`took over the lock of pid ${pid} (started 2024-01-01T00:00:00.000Z), which no longer runs (${path.join(dir, LOCK_FILE)})`]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock whose pid now belongs to another process', () => {
    const dir = medium();
    writeLock(dir, { pid: process.pid, boot: bootId(), processStart: '1' });
    const notes: string[] = [];
    lockMedium(dir, (n) => notes.push(n)).release();
    expect(notes[0]).toMatch(/which no longer runs \(its pid now belongs to another process\)/);
  });

  it('takes over a lock from before the last reboot', () => {
    const dir = medium();
    writeLock(dir, { pid: process.pid, boot: '00000000-0000-0000-0000-000000000000' });
    const notes: string[] = [];
    lockMedium(dir, (n) => notes.push(n)).release();
    expect(notes[0]).toMatch(/from before the last reboot/);
  });

  it('refuses the lock of another host, which it cannot check', () => {
    const dir = medium();
    writeLock(dir, { pid: deadPid(), host: 'buildhost-7' });
    expect(refusal(() => lockMedium(dir)).message).toMatch(/another build is writing this medium \(pid \d+ on host buildhost-7, started /);
  });

  it('refuses an unreadable lock file while it is fresh, takes it over when old', () => {
    const dir = medium();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, '');
    expect(refusal(() => lockMedium(dir)).message).toContain('another build is writing this medium (its lock file is being written)');
    const old = new Date(Date.now() - 5 * 60_000);
    fs.utimesSync(file, old, old);
    const notes: string[] = [];
    lockMedium(dir, (n) => notes.push(n)).release();
    expect(notes[0]).toMatch(/^took over the lock of an unreadable lock file/);
  });

  it('does not remove a lock that is no longer its own', () => {
    const dir = medium();
    const lock = lockMedium(dir);
    const file = writeLock(dir, { pid: 12345 });
    lock.release();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('creates a missing medium folder and removes it again if the build wrote nothing', () => {
    const dir = path.join(medium(), 'out', 'medium');
    const lock = lockMedium(dir);
    expect(fs.existsSync(dir)).toBe(true);
    lock.release();
    expect(fs.existsSync(path.dirname(dir))).toBe(false);
  });

  it('stages under the lock and removes staging folders that killed builds left', () => {
    const dir = medium();
    const left = path.join(dir, '.mediacompose-staging-999999', 'images');
    fs.mkdirSync(left, { recursive: true });
    fs.writeFileSync(path.join(left, 'half.tar.xz'), 'x');
    const lock = lockMedium(dir);
    const staging = Staging.create(lock);
    expect(fs.readdirSync(dir).sort()).toEqual([`.mediacompose-staging-${process.pid}`, LOCK_FILE].sort());
    fs.writeFileSync(path.join(staging.images, 'images.xml'), '<x/>');
    staging.commit();
    lock.release();
    expect(fs.readdirSync(dir)).toEqual(['images']);
    expect(fs.readdirSync(path.join(dir, 'images'))).toEqual(['images.xml']);
  });

  it('puts back the previous images when a build was killed between the two renames of the swap', () => {
    const dir = medium();
    const previous = path.join(dir, '.mediacompose-staging-999999', 'previous');
    fs.mkdirSync(previous, { recursive: true });
    fs.writeFileSync(path.join(previous, 'images.xml'), '<old/>');
    const lock = lockMedium(dir);
    Staging.create(lock).discard();
    lock.release();
    expect(fs.readFileSync(path.join(dir, 'images', 'images.xml'), 'utf8')).toBe('<old/>');
    expect(fs.readdirSync(dir)).toEqual(['images']);
  });
});
