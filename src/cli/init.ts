/**
 * `mediacompose init [DIR] [--template NAME]`: writes a commented starter compose.yaml from one
 * of the package's templates; the demo template also writes the small roots it builds from
 * (DIR/roots). It never overwrites: a compose.yaml that exists may hold hours of a person's work.
 */
import { writeOutput } from '../runtime/write-file.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parse } from 'yaml';
import { writeDemoRoots } from '../commands/demo-roots.js';
import { closest } from '../config/reader.js';
import { OutputError, UsageError, describeSystemError } from '../errors.js';
import { makeFolders } from '../runtime/folders.js';
import { runCommand } from './run.js';

/** The package's own folder: src/cli and dist/cli both sit two levels below it. */
const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const TEMPLATES_DIR = path.join(PACKAGE_DIR, 'templates');
export const SCHEMA_FILE = path.join(PACKAGE_DIR, 'schema', 'compose.schema.json');
const DEFAULT_TEMPLATE = 'minimal';
/** The template whose roots init writes too, and where (relative to DIR). */
const DEMO_TEMPLATE = 'demo';
const DEMO_ROOTS = 'roots';

/** The editor hint on a template's first line (yaml-language-server, used by VS Code and others). */
const SCHEMA_MODELINE = /^# yaml-language-server: \$schema=.*$/m;

interface InitArgs {
  dir: string;
  template: string;
  debug: boolean;
}

export const initCommand: CommandModule<{ debug: boolean }, InitArgs> = {
  command: 'init [dir]',
  describe: 'write a starter compose.yaml, with comments, from a template',
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('dir', { type: 'string', default: '.', describe: 'the folder to write compose.yaml into (made if missing)' })
      .option('template', {
        type: 'string',
        alias: 't',
        default: DEFAULT_TEMPLATE,
        describe: 'the template to start from; "list" shows them all',
      })
      .example('$0 init', 'write ./compose.yaml: two imagesets sharing a base image')
      .example('$0 init media/dvd --template opensuse-dvd', 'an openSUSE-style DVD: KDE, GNOME, X11, BASE over base/xorg/desktop layers')
      .example('$0 init demo --template demo', 'demo/compose.yaml and small roots to build it from at once')
      .example('$0 init --template list', 'show the templates'),
  handler: (args: ArgumentsCamelCase<InitArgs>) =>
    runCommand(args.debug, async () => {
      if (args.template === 'list') {
        process.stdout.write(templateList());
        return 0;
      }
      if (args.template === DEMO_TEMPLATE) {
        const roots = path.join(args.dir, DEMO_ROOTS);
        if (fs.existsSync(roots)) throw alreadyExists(roots);
        const file = writeStarter(args.dir, args.template);
        await writeRoots(roots);
        process.stdout.write(`wrote ${file} and its roots, ${roots}/\nnext: mediacompose build ${file}\n`);
        return 0;
      }
      const file = writeStarter(args.dir, args.template);
      process.stdout.write(nextSteps(file, args.template));
      return 0;
    }),
};

interface Template {
  readonly name: string;
  /** The first line of its leading comment. */
  readonly summary: string;
  readonly file: string;
}

/** The templates shipped in the package, by name. */
function listTemplates(): Template[] {
  return fs
    .readdirSync(TEMPLATES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = path.join(TEMPLATES_DIR, f);
      return { name: f.slice(0, -'.yaml'.length), summary: summaryOf(fs.readFileSync(file, 'utf8')), file };
    });
}

function summaryOf(text: string): string {
  const comment = text.split('\n').find((line) => line.startsWith('# ') && !SCHEMA_MODELINE.test(line));
  return comment ? comment.slice(2).trim() : '';
}

function templateList(): string {
  const templates = listTemplates();
  const width = Math.max(...templates.map((t) => t.name.length));
  return [
    'templates (mediacompose init [DIR] --template NAME):',
    ...templates.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}${t.name === DEFAULT_TEMPLATE ? ' (default)' : ''}`),
    '',
  ].join('\n');
}

/** Writes DIR/compose.yaml from a template; returns its path. */
function writeStarter(dir: string, templateName: string): string {
  const template = findTemplate(templateName);
  const file = path.join(dir, 'compose.yaml');
  if (fs.existsSync(file)) throw alreadyExists(file);
  makeFolder(dir);
  const text = withSchemaReference(fs.readFileSync(template.file, 'utf8'), dir);
  // Exclusive: a compose.yaml that appeared meanwhile is not overwritten either.
  writeOutput(file, text, { exclusive: { exists: () => alreadyExists(file) } });
  return file;
}

async function writeRoots(dir: string): Promise<void> {
  try {
    await writeDemoRoots(dir);
  } catch (err) {
    throw new OutputError(dir, `cannot write the demo roots: ${describeSystemError(err)}`);
  }
}

function alreadyExists(file: string): UsageError {
  return new UsageError(file, 'already exists', 'init never overwrites; edit it, remove it first, or name another folder: mediacompose init DIR');
}

function findTemplate(name: string): Template {
  const templates = listTemplates();
  const found = templates.find((t) => t.name === name);
  if (found) return found;
  const names = templates.map((t) => t.name);
  const close = closest(name, names);
  throw new UsageError(
    undefined,
    `unknown template "${name}"`,
    `${close ? `did you mean "${close}"? ` : ''}templates: ${names.join(', ')}; mediacompose init --template list describes them`,
  );
}

function makeFolder(dir: string): void {
  try {
    makeFolders(dir);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new UsageError(dir, 'is not a folder', 'name a folder for compose.yaml');
    throw new OutputError(dir, `cannot make the folder: ${describeSystemError(err)}`);
  }
}

/**
 * Points the template's `$schema=` comment at this package's schema, as seen from the folder
 * the file is written to. A relative path keeps working when a project folder is moved or
 * checked out elsewhere together with its node_modules; when the two share nothing but `/`
 * (a global install, say) an absolute path is the one that keeps working.
 */
function withSchemaReference(text: string, dir: string): string {
  return text.replace(SCHEMA_MODELINE, `# yaml-language-server: $schema=${schemaReference(dir)}`);
}

export function schemaReference(dir: string): string {
  const from = path.resolve(dir);
  const topOf = (p: string): string | undefined => p.split(path.sep).filter(Boolean)[0];
  if (topOf(from) !== topOf(SCHEMA_FILE)) return SCHEMA_FILE;
  return path.relative(from, SCHEMA_FILE).split(path.sep).join('/');
}

/** What to do next: install the roots the file names, then build. */
function nextSteps(file: string, templateName: string): string {
  const doc = parse(fs.readFileSync(file, 'utf8')) as { imagesets?: Array<{ root?: string; patterns?: string[] }> };
  const imagesets = doc.imagesets ?? [];
  const width = Math.max(0, ...imagesets.map((s) => String(s.root).length));
  return [
    `wrote ${file} (template ${templateName})`,
    'next: install each pattern list into its root (paths are relative to the compose file):',
    ...imagesets.map((s) => `  ${String(s.root).padEnd(width)}  ${(s.patterns ?? []).join(' ')}`),
    `then: mediacompose plan ${file}    (what would be shared)`,
    `      mediacompose build ${file}`,
    '',
  ].join('\n');
}
