/**
 * Every file name mediacompose makes, in one place: image stems, archive stems (the format's
 * extension is the format's own: formats/registry.ts), the images folder and its XML files. Pure: no I/O.
 */
/** The folder of the medium the installer reads. */
export const IMAGES_DIR = 'images';
export const IMAGES_XML = 'images.xml';

/** `details-<arch>.xml`: the sizes and packages of one arch's archives. */
export function detailsFileName(arch: string): string {
  return `details-${arch}.xml`;
}

/** The legacy `details.xml`: what the installer reads on an arch without its own details file. */
export const LEGACY_DETAILS_XML = 'details.xml';

/** Stem of an imageset's own image (and of a declared shared image): `<name>-<arch>`. */
export function imageStem(name: string, arch: string): string {
  return `${name}-${arch}`;
}

/** Stem of an imageset's metadata image: `<name>-meta-<arch>`. */
export function metaStem(name: string, arch: string): string {
  return imageStem(`${name}-meta`, arch);
}

/** Stem of an automatic shared image: `<base>-<arch>`, then `<base>-2-<arch>`, ... until free. */
export function uniqueStem(base: string, arch: string, taken: Set<string>): string {
  let stem = imageStem(base, arch);
  for (let n = 2; taken.has(stem); n++) stem = imageStem(`${base}-${n}`, arch);
  taken.add(stem);
  return stem;
}

/** How a file name is shown before the arch or compression is known: `<name>-<arch>.tar.<ext>`. */
export function archiveFilePattern(name: string, arch = '<arch>'): string {
  return `${imageStem(name, arch)}.tar.<ext>`;
}
