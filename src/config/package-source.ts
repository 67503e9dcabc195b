/**
 * The package source of compose.yaml: `repositories:` (zypper repositories), `prepare:` (where the
 * prepared roots live, recommends) and an imageset's `packages:` (extra packages of a prepared
 * root). Read here; installed by src/prepare/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MediaComposeError, describeSystemError } from '../errors.js';
import { INPUT_FILES, openInput } from '../runtime/input-file.js';
import type { PrepareSpec, RepositorySpec } from './spec.js';
import { type Fields, type Located, Reader, readBoolean } from './reader.js';

const REPOSITORY_KEYS = ['name', 'url', 'gpgcheck', 'gpgkey'];
const PREPARE_KEYS = ['roots', 'recommends'];

/** A repository alias inside the prepared roots (it names a file in etc/zypp/repos.d). */
const REPOSITORY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A package name as zypper takes it on its command line (never an option). */
const PACKAGE_NAME_PATTERN = /^[A-Za-z0-9_+][A-Za-z0-9_.+-]*$/;
/** A zypper URI: a scheme, then the rest (http://..., dir:///..., iso:/?iso=...). */
const URI_PATTERN = /^[a-z][a-z0-9+.-]*:\S+$/;

export function readRepositories(reader: Reader, v: Located | undefined): RepositorySpec[] {
  if (!v) return [];
  const hint = 'list zypper repositories, e.g. repositories: [{name: oss, url: http://download.example.org/repo/oss}]';
  const items = reader.list(v, 'repositories', hint);
  if (!items) return [];
  if (items.length === 0) reader.problem(v.at, 'repositories is empty', `${hint}, or leave repositories: out`);
  const repositories: RepositorySpec[] = [];
  for (const item of items) {
    const map = reader.map(item, 'repository', 'a repository is a mapping with name: and url:');
    if (!map) continue;
    const fields = reader.fields(map, REPOSITORY_KEYS, 'repository', item.at);
    const nameField = reader.required(fields, 'name', 'repository', item.at, 'add its alias, e.g. name: oss');
    const name = nameField && reader.text(nameField, 'name', 'a repository alias such as oss');
    if (name !== undefined && nameField && !REPOSITORY_NAME_PATTERN.test(name)) {
      reader.problem(nameField.at, `invalid repository name "${name}"`, 'letters, digits, ".", "_" and "-", starting with a letter or digit');
    }
    const urlField = reader.required(fields, 'url', 'repository', item.at, 'add its zypper URI, e.g. url: dir:///srv/repo');
    const url = urlField && reader.text(urlField, 'url', 'a zypper URI such as http://host/repo or dir:///srv/repo');
    if (url !== undefined && urlField && !URI_PATTERN.test(url)) {
      reader.problem(urlField.at, `repository url "${url}" is not a zypper URI`, 'write it with its scheme: http://host/repo, https://..., dir:///srv/repo, iso:/?iso=/srv/dvd.iso');
    }
    const gpgField = fields.get('gpgcheck');
    const gpgcheck = gpgField ? readBoolean(reader, gpgField, 'gpgcheck', true) : true;
    const keyField = fields.get('gpgkey');
    const gpgkey = keyField && readKeyFile(reader, keyField);
    if (keyField && gpgField && !gpgcheck) {
      reader.problem(keyField.at, 'gpgkey: with gpgcheck: false checks nothing', 'remove gpgcheck: false to have the signatures checked against this key, or remove gpgkey:');
    }
    if (name === undefined || url === undefined) continue;
    const first = repositories.find((r) => r.name === name);
    if (first && nameField) {
      reader.problem(nameField.at, `duplicate repository "${name}"`, `the first one is at line ${first.position?.line}; repository names must be unique`);
      continue;
    }
    repositories.push({ name, url, gpgcheck, ...(gpgkey ? { gpgkey: gpgkey.file, gpgkeyAsWritten: gpgkey.written } : {}), position: item.at });
  }
  return repositories;
}

/**
 * A repository's `gpgkey:`: a file (relative to the compose file, or a file:// URL) holding the
 * public key(s) its metadata must be signed with. A key is not fetched: one downloaded at each run
 * from the net is trusted on first use again, only from another server.
 */
function readKeyFile(reader: Reader, v: Located): { file: string; written: string } | undefined {
  const written = reader.text(v, 'gpgkey', 'the public key file the repository is signed with, relative to the compose file, e.g. gpgkey: keys/oss.asc');
  if (written === undefined) return undefined;
  let absolute: string;
  if (/^file:/.test(written)) {
    try {
      absolute = fileURLToPath(written);
    } catch {
      reader.problem(v.at, `gpgkey "${written}" is not a file URL`, 'write it as file:///path/key.asc, or as a path relative to the compose file');
      return undefined;
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//.test(written)) {
    reader.problem(v.at, `gpgkey "${written}" is not a file: keys are not downloaded`,
      'download the key, compare its fingerprint with the one its publisher announces, and name the file, e.g. gpgkey: keys/oss.asc');
    return undefined;
  } else {
    absolute = path.resolve(reader.dir, written);
  }
  try {
    // A FIFO or a device is refused without being opened; gpg reads the file later.
    fs.closeSync(openInput(absolute, 'repositoryKey', 'follow').fd);
  } catch (err) {
    if (err instanceof MediaComposeError) reader.problem(v.at, `gpgkey "${written}": ${err.what}`, err.hint ?? INPUT_FILES.repositoryKey.hint);
    else if ((err as NodeJS.ErrnoException).code === 'ENOENT') reader.problem(v.at, `gpgkey "${written}" does not exist`, `no file at ${absolute}; gpgkey paths are relative to the compose file's folder`);
    else reader.problem(v.at, `gpgkey "${written}" cannot be read: ${describeSystemError(err)}`, `check the path ${absolute} and its permissions`);
    return undefined;
  }
  return { file: absolute, written };
}

export function readPrepare(reader: Reader, v: Located | undefined): PrepareSpec {
  const defaults: PrepareSpec = { roots: resolveFolder(reader.dir, 'roots'), rootsAsWritten: 'roots', recommends: true };
  if (!v) return defaults;
  const map = reader.map(v, 'prepare', 'a mapping such as prepare: {roots: roots, recommends: true}');
  if (!map) return defaults;
  const fields = reader.fields(map, PREPARE_KEYS, 'prepare', v.at);
  const rootsField = fields.get('roots');
  const written = rootsField ? reader.text(rootsField, 'roots', 'the folder of the prepared roots, relative to the compose file, e.g. roots: roots') : undefined;
  const recommends = fields.get('recommends');
  return {
    roots: written === undefined ? defaults.roots : resolveFolder(reader.dir, written),
    rootsAsWritten: written ?? defaults.rootsAsWritten,
    recommends: recommends ? readBoolean(reader, recommends, 'recommends', true) : true,
  };
}

/** An absolute folder; symlinks resolved when it exists already. */
function resolveFolder(dir: string, written: string): string {
  const absolute = path.resolve(dir, written);
  try {
    return fs.realpathSync(absolute);
  } catch {
    return absolute;
  }
}

/** An imageset's `packages:`; they belong to prepared roots only. */
export function readPackages(reader: Reader, fields: Fields): string[] {
  const v = fields.get('packages');
  if (!v) return [];
  const hint = 'list package names, e.g. packages: [vim, less]';
  const items = reader.list(v, 'packages', hint) ?? [];
  const packages: string[] = [];
  for (const item of items) {
    const name = reader.string(item, 'package', hint);
    if (name === undefined) continue;
    if (!PACKAGE_NAME_PATTERN.test(name)) {
      reader.problem(item.at, `invalid package name "${name}"`, 'a package name: letters, digits and "_+.-", not starting with "-" or "."');
    } else if (!packages.includes(name)) {
      packages.push(name);
    }
  }
  if (fields.has('root')) {
    reader.problem(v.at, 'packages: is for imagesets prepared from repositories', 'install them into the root yourself, or leave root: out and give repositories:');
  }
  return packages;
}
