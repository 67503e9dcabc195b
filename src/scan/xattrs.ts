/**
 * Extended attributes and ACLs of a root: what the installer cannot restore. Its tar runs
 * without --xattrs and --acls, so a file capability (`security.capability`, which lets ping
 * open raw sockets without setuid), an ACL or any other extended attribute is silently lost on
 * the installed system. mediacompose does not archive them either; it names the files instead.
 *
 * Node has no xattr API, so the system's getfattr (package `attr`) lists them: one process per
 * root, its output parsed as it streams.
 */
import type { Warning } from '../model/warnings.js';
import { CommandError, onPath, startFilter } from '../runtime/command.js';
import { type BytePath, comparePaths, printable } from '../model/entry.js';

/** Entries of a root by extended attribute name, e.g. "security.capability" -> ["usr/bin/ping"]. */
type AttributeIndex = Map<string, BytePath[]>;

/** The result of checking one root. */
interface RootAttributes {
  readonly root: string;
  readonly attributes: AttributeIndex;
  /** Why the check is incomplete (getfattr failed on some file), when it is. */
  readonly incomplete?: string;
}

/**
 * SELinux labels are not reported: every file of a root built on an SELinux host has one, and
 * the installed system labels its files from its own policy anyway.
 */
const IGNORED = new Set(['security.selinux']);
const CAPABILITY = 'security.capability';
const ACLS = new Set(['system.posix_acl_access', 'system.posix_acl_default', 'system.nfs4_acl', 'system.richacl']);

/** How many paths a warning lists before it only counts the rest. */
const LISTED = 20;

/** The getfattr command line: recursive, never following symlinks, names only, all namespaces. */
function getfattrArgv(root: string): string[] {
  return ['getfattr', '--recursive', '--physical', '--no-dereference', '--match=-', '--absolute-names', '--', root];
}

/** Whether extended attributes can be checked on this system. */
export function canCheckAttributes(): boolean {
  return onPath('getfattr');
}

/** Lists a root's extended attributes with getfattr (which must be on PATH). */
export async function readRootAttributes(root: string): Promise<RootAttributes> {
  const getfattr = startFilter(getfattrArgv(root));
  // Settled promptly, so that a failure is never an unhandled rejection while output streams.
  const exited = getfattr.exited.then(() => undefined, (err: unknown) => err);
  getfattr.stdin.on('error', () => {});
  getfattr.stdin.end();
  const parser = new GetfattrParser(root);
  getfattr.stdout.setEncoding('latin1');
  for await (const chunk of getfattr.stdout) parser.push(chunk as string);
  const failure = await exited;
  const attributes = parser.end();
  if (failure === undefined) return { root, attributes };
  const why = failure instanceof CommandError ? failure.message : String(failure);
  return { root, attributes, incomplete: why };
}

/**
 * Parses getfattr's listing, which arrives in arbitrary chunks:
 *
 *     # file: /roots/kde/usr/bin/ping
 *     security.capability
 *     <empty line>
 *
 * Names are raw bytes except that getfattr writes backslash, newline and carriage return as
 * octal escapes (`\134`, `\012`, `\015`), so every line is one record. Read as latin1, a line
 * is a byte string: the BytePath form the scan uses.
 */
export class GetfattrParser {
  private readonly attributes: AttributeIndex = new Map();
  private readonly prefix: BytePath;
  private pending = '';
  private current: BytePath | undefined;

  constructor(root: string) {
    this.prefix = `${Buffer.from(root, 'utf8').toString('latin1')}/`;
  }

  push(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): AttributeIndex {
    if (this.pending !== '') this.line(this.pending);
    this.pending = '';
    return this.attributes;
  }

  private line(line: string): void {
    if (line.startsWith('# file: ')) {
      const file = unescapeOctal(line.slice('# file: '.length));
      // The root itself is not an archive member; anything else lies below it.
      this.current = file.startsWith(this.prefix) ? file.slice(this.prefix.length) : undefined;
      return;
    }
    if (line === '' || this.current === undefined) return;
    const name = unescapeOctal(line);
    if (IGNORED.has(name)) return;
    const paths = this.attributes.get(name);
    if (paths) paths.push(this.current);
    else this.attributes.set(name, [this.current]);
  }
}

/** Undoes getfattr's `\ooo` escapes (one byte each) in a latin1 byte string. */
export function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8) & 0xff));
}

/**
 * The warnings for one root, one per kind: file capabilities, ACLs, other extended attributes.
 * Each names the files, in archive order.
 */
export function attributeWarnings(checked: RootAttributes): Warning[] {
  const { root, attributes } = checked;
  const warnings: string[] = [];
  const capabilities = pathsWith(attributes, (name) => name === CAPABILITY);
  if (capabilities.length > 0) {
    warnings.push(
      `${root}: file capabilities (security.capability) on ${count(capabilities, 'file')}, which the installer's tar does not restore ` +
        `(the programs then fail without them, e.g. ping): ${listed(capabilities)}`,
    );
  }
  const acls = pathsWith(attributes, (name) => ACLS.has(name));
  if (acls.length > 0) {
    warnings.push(`${root}: ACLs on ${count(acls, 'entry')}, which the installer's tar does not restore: ${listed(acls)}`);
  }
  const otherNames = [...attributes.keys()].filter((name) => name !== CAPABILITY && !ACLS.has(name)).sort();
  const others = pathsWith(attributes, (name) => otherNames.includes(name));
  if (others.length > 0) {
    warnings.push(
      `${root}: extended attributes (${otherNames.map((n) => printable(n)).join(', ')}) on ${count(others, 'entry')}, ` +
        `which the installer's tar does not restore: ${listed(others)}`,
    );
  }
  if (checked.incomplete) warnings.push(`${root}: extended attributes not fully checked: ${checked.incomplete}`);
  return warnings.map((message) => ({ code: 'MC-W-XATTR', message }));
}

/** The one warning when getfattr is not installed. */
export const ATTRIBUTES_NOT_CHECKED: Warning = {
  code: 'MC-W-XATTR-UNCHECKED',
  message: 'extended attributes and ACLs of the roots were not checked: getfattr not found (install the "attr" package)',
};

function pathsWith(attributes: AttributeIndex, wanted: (name: string) => boolean): BytePath[] {
  const paths = new Set<BytePath>();
  for (const [name, list] of attributes) if (wanted(name)) for (const p of list) paths.add(p);
  return [...paths].sort(comparePaths);
}

function count(paths: readonly BytePath[], noun: string): string {
  if (paths.length === 1) return `1 ${noun}`;
  return `${paths.length} ${noun === 'entry' ? 'entries' : `${noun}s`}`;
}

function listed(paths: readonly BytePath[]): string {
  const shown = paths.slice(0, LISTED).map(printable).join(', ');
  return paths.length > LISTED ? `${shown} and ${paths.length - LISTED} more` : shown;
}
