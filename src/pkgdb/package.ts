/** One package recorded as installed in a root's package database. */
export interface InstalledPackage {
  name: string;
  /** rpm only, and only when the package has an Epoch. */
  epoch?: number;
  /** rpm: the upstream version; dpkg: the whole Version field (`[epoch:]upstream[-revision]`). */
  version: string;
  /** rpm only. */
  release?: string;
  /** `x86_64`, `noarch`, `amd64`, `all`, ...; '' for rpm records without one (gpg-pubkey). */
  arch: string;
  /** Absolute paths as recorded, '/usr/bin/x', in the database's order; directories included. */
  files: string[];
}
