/**
 * Every kind of warning mediacompose gives has a code, so that a pipeline can count them
 * (`warning_codes` in --json) and `--strict` can turn chosen ones into errors
 * (runtime/warnings.ts). docs/warnings.md lists them. A warning line's text is the message alone.
 */
export const WARNING_CODES = {
  'MC-W-SOCKET': 'a socket in a root: skipped (sockets cannot be archived)',
  'MC-W-SPARSE': 'a sparse file in a root: archived with all its bytes, installed dense',
  'MC-W-XATTR': "file capabilities, ACLs or other extended attributes the installer's tar does not restore",
  'MC-W-XATTR-UNCHECKED': 'extended attributes and ACLs not checked (getfattr missing)',
  'MC-W-NO-PKGDB': 'a root without a package database the installer could open',
  'MC-W-UNSIGNED': 'no checksums key: the medium gets no signed checksum list',
  'MC-W-CHECKSUMS': 'a checksum list of the medium that overrides images/CHECKSUMS',
  'MC-W-CACHE': 'the image cache or the digest memo: damaged, over its bound, or not written',
  'MC-W-BUDGET': 'an archive close to budget.file',
  'MC-W-KEY': 'a repository key trusted on first use',
  'MC-W-LOCK': "a stale lock taken over, or an interrupted build's swap repaired",
  'MC-W-MEDIUM': 'something the installer reads differently in a medium read back (details, verify)',
} as const;

export type WarningCode = keyof typeof WARNING_CODES;

/** A warning as its producer makes it. */
export interface Warning {
  readonly code: WarningCode;
  readonly message: string;
}
