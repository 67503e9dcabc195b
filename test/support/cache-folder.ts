/**
 * Global setup: every build the tests run uses an image cache in a temporary folder of its own,
 * never the cache of the user running the tests. Tests that must see compression happen pass
 * --no-cache; tests of the cache pass --cache with a folder of their own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-test-cache-'));
  process.env.MEDIACOMPOSE_CACHE = folder;
  return () => fs.rmSync(folder, { recursive: true, force: true });
}
