import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { COMPRESSION_NAMES, FORMATS, archiveFileName, createDecompressor, decompressorHint, detectFormat, installerCanRead } from '../../src/formats/registry.js';
import type { Coder } from '../../src/formats/registry.js';

async function through(coder: Coder, input: Buffer): Promise<Buffer> {
  const out = buffer(coder.stream);
  Readable.from([input]).pipe(coder.stream);
  const [bytes] = await Promise.all([out, coder.done]);
  return bytes;
}

// Text that compresses, with enough variety to span more than one bzip2 block at level 1.
const sample = (seed: number): Buffer => Buffer.from(Array.from({ length: 30_000 }, (_, i) => `line ${seed}:${(i * 7919) % 1000}\n`).join(''));

describe.each(COMPRESSION_NAMES)('the %s record', (name) => {
  const format = FORMATS[name];

  it('reads back what it writes, and its first bytes name it', async () => {
    const input = sample(1);
    const packed = await through(format.createCompressor(format.levels.min, 2), input);
    expect(detectFormat(packed.subarray(0, 512))).toBe(name);
    expect((await through(createDecompressor(name), packed)).equals(input)).toBe(true);
  });

  it('says truly whether two streams one after the other read as one', async () => {
    const [a, b] = [sample(2), sample(3)];
    const level = format.levels.usual;
    const joined = Buffer.concat([await through(format.createCompressor(level, 1), a), await through(format.createCompressor(level, 1), b)]);
    const read = await through(createDecompressor(name), joined).catch(() => Buffer.alloc(0));
    expect(read.equals(Buffer.concat([a, b]))).toBe(format.concatenates);
  });

  it('has a usual level within its range, and a file name the installer deploys', () => {
    expect(format.levels.min).toBeLessThanOrEqual(format.levels.usual);
    expect(format.levels.usual).toBeLessThanOrEqual(format.levels.max);
    expect(format.usefulThreads(format.levels.usual, 1)).toBe(1);
    expect(installerCanRead(archiveFileName('base-x86_64', name), name)).toBe(true);
  });
});

describe('the installer and the formats', () => {
  it('lzma content under an .xz or .gz name is refused, with the name that fits', () => {
    expect(installerCanRead('base.tar.xz', 'lzma')).toBe(false);
    expect(installerCanRead('base.tar.gz', 'lzma')).toBe(false);
    expect(decompressorHint('lzma')).toBe('rename it to end in .lzma, or recompress it');
    expect(installerCanRead('base.tar.lzma', 'xz')).toBe(false);
    expect(installerCanRead('base.tar', 'xz')).toBe(true);
    expect(decompressorHint('gzip')).toBe('rename it to a name not ending in .xz or .lzma (e.g. .tar.gz or .tar.bzip2), or recompress it');
  });
});

describe('compose.schema.json, written from the records', () => {
  it("gives each format's level range and the names in the registry's order", async () => {
    const fs = await import('node:fs');
    const schema = JSON.parse(fs.readFileSync('schema/compose.schema.json', 'utf8'));
    expect(schema.properties.compression.enum).toEqual([...COMPRESSION_NAMES]);
    for (const name of COMPRESSION_NAMES) {
      const rule = schema.allOf.find((r: { then?: { properties?: { level?: { description?: string } } } }) => r.then?.properties?.level?.description?.startsWith(`${name}:`));
      expect(rule.then.properties.level).toMatchObject({ minimum: FORMATS[name].levels.min, maximum: FORMATS[name].levels.max });
    }
  });
});
