/**
 * The validated, frozen compose specification: what compose.yaml says, with defaults applied and
 * paths resolved. Builders never touch raw YAML; they read this.
 */
import type { SourcePosition } from '../errors.js';

import type { CompressionName } from '../formats/registry.js';

export interface ImagesetSpec {
  /** [a-z0-9][a-z0-9._-]*, unique per arch. */
  readonly name: string;
  /** Label prefix in images.xml (default: name upper-cased). */
  readonly title: string;
  /** Pattern names, in the order written. */
  readonly patterns: readonly string[];
  /** Absolute, symlink-resolved path of the installed root. */
  readonly root: string;
  /** The root as written in compose.yaml (for messages). */
  readonly rootAsWritten: string;
  /**
   * Present when compose.yaml names no root: the root is prepared from the repositories into
   * `<prepare.roots>/<name>-<arch>` (see src/prepare/).
   */
  readonly prepared?: PreparedRootSpec;
  /** The installer's short arch (x86_64, i386, ppc, s390, ...). */
  readonly arch: string;
  readonly position?: SourcePosition;
}

/** What a prepared root holds besides its patterns. */
interface PreparedRootSpec {
  /** Extra packages, in the order written. */
  readonly packages: readonly string[];
}

/** A zypper repository the prepared roots are installed from. */
export interface RepositorySpec {
  /** The repository's alias inside the roots ([A-Za-z0-9._-]+, unique). */
  readonly name: string;
  /** Any zypper URI: http(s)://, ftp://, dir://, iso://, ... */
  readonly url: string;
  /** Check the signatures of metadata and packages (default true). */
  readonly gpgcheck: boolean;
  /**
   * Absolute path of the public key file the repository's metadata must be signed with; only its
   * keys are trusted for this repository (src/prepare/keys.ts). Absent: the key the repository
   * offers is trusted on first use.
   */
  readonly gpgkey?: string;
  /** gpgkey as written in compose.yaml (for messages). */
  readonly gpgkeyAsWritten?: string;
  readonly position?: SourcePosition;
}

export interface PrepareSpec {
  /** Absolute folder of the prepared roots, the shared package cache and their records. */
  readonly roots: string;
  /** The folder as written (for messages). */
  readonly rootsAsWritten: string;
  /** Install recommended packages too (zypper's default). */
  readonly recommends: boolean;
}

export interface SharedImageSpec {
  /** File stem: one archive per arch, `<name>-<arch>.tar.<ext>`. */
  readonly name: string;
  /** Shown as `<title> [<label>]` in images.xml (default: name). */
  readonly label: string;
  /** 'all', or imageset names (looked up within each arch). */
  readonly sharedBy: 'all' | readonly string[];
  readonly position?: SourcePosition;
}

export interface ComposeSpec {
  /** Absolute path of compose.yaml. */
  readonly file: string;
  /** Absolute path of the medium's output folder. */
  readonly medium: string;
  readonly compression: CompressionName;
  /** 1..9; the format's usual level when not given. */
  readonly level: number;
  readonly imagesets: readonly ImagesetSpec[];
  /** Declared shared images in extraction order; empty when `images:` is absent. */
  readonly images: readonly SharedImageSpec[];
  /** True when compose.yaml has an `images:` key. */
  readonly imagesDeclared: boolean;
  /** Paths (relative, no leading or trailing '/') that always go to the metadata image. */
  readonly metadata: readonly string[];
  readonly layering: LayeringSpec;
  /** Where imagesets without a root are installed from; empty when none is given. */
  readonly repositories: readonly RepositorySpec[];
  readonly prepare: PrepareSpec;
  readonly budget: BudgetSpec;
  /**
   * `check_attributes:` (default true): whether build looks for extended attributes and ACLs in
   * the roots, which the installer's tar does not restore. false: for roots known to have none
   * (the demo's); nothing is checked and nothing said, also where getfattr is missing.
   */
  readonly checkAttributes: boolean;
  /** `checksums:`: the gpg key for the signed list and which list; absent: no key. */
  readonly checksums?: ChecksumsSpec;
}

/** Size limits of the medium; a build that exceeds one fails and keeps the previous medium. */
export interface BudgetSpec {
  /** Bytes the whole images/ folder may hold (archives and XML files), when given. */
  readonly medium?: number;
  /** Every archive must be strictly smaller than this, when given. */
  readonly file?: number;
}

/** ISO 9660 below level 3 holds no file of 4 GiB or more: without budget.file, warn there. */
export const ISO9660_FILE_LIMIT = 4 * 1024 ** 3;

/** Automatic layering: shared images found from what the roots hold identically. */
export interface LayeringSpec {
  /** On by default when compose.yaml declares no images; after declared images when both. */
  readonly auto: boolean;
  /**
   * Uncompressed content bytes a group of imagesets must hold identically to get an image of
   * its own; smaller groups go to each imageset's own image (stored once per imageset).
   */
  readonly minSize: number;
}

/** 1 MiB: below that, an extra archive and extraction pass costs more than storing it twice. */
export const DEFAULT_MIN_SHARED_SIZE = 1 << 20;

export const DEFAULT_METADATA: readonly string[] = [
  'usr/lib/sysimage/rpm',
  'var/lib/rpm',
  'var/lib/dpkg',
  'var/cache/zypp',
  'etc/products.d',
];

/** compose.yaml's `checksums`: the signed checksum list, or none on purpose. */
export interface ChecksumsSpec {
  /** gpg key id or fingerprint; absent: no list is written. */
  readonly key?: string;
  /** 'images': images/CHECKSUMS; 'medium': the medium's root CHECKSUMS. */
  readonly list: 'images' | 'medium';
  /** `checksums: none`: no signed list on purpose (the product's list covers images/, or a demo). */
  readonly none?: true;
}
