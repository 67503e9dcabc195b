/**
 * Resolving a path inside a root tree the way the root itself would see it (as after chroot):
 * absolute symlink targets start at the root, and `..` never climbs above it. Roots often link
 * var/lib/rpm to ../../usr/lib/sysimage/rpm, or to /usr/lib/sysimage/rpm.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSystemError, InputError } from '../errors.js';

/** Symlinks followed before giving up, as the kernel's ELOOP limit. */
const MAX_SYMLINKS = 40;

/**
 * The host path of `relativePath` inside `root` with every symlink resolved within the root, or
 * undefined when it does not exist (or runs into a symlink loop).
 */
export async function resolveInsideRoot(root: string, relativePath: string): Promise<string | undefined> {
  const resolved: string[] = [];
  const pending = components(relativePath);
  let symlinksLeft = MAX_SYMLINKS;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const hostPath = join(root, ...resolved, part);
    const isLink = await isSymlink(hostPath);
    if (isLink === undefined) return undefined;
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (--symlinksLeft < 0) return undefined;
    const target = await readLink(hostPath);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...components(target));
  }
  return join(root, ...resolved);
}

function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

async function readLink(hostPath: string): Promise<string> {
  try {
    return await readlink(hostPath);
  } catch (err) {
    throw new InputError(hostPath, describeSystemError(err), undefined, { cause: err });
  }
}

/** true for a symlink, false for anything else, undefined when nothing is there. */
async function isSymlink(hostPath: string): Promise<boolean | undefined> {
  try {
    return (await lstat(hostPath)).isSymbolicLink();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(hostPath, describeSystemError(err), undefined, { cause: err });
  }
}
