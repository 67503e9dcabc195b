import fs from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { productLines } from '../checksums/medium.js';
import { InputError } from '../errors.js';
import { IMAGES_DIR } from '../model/names.js';
import { jsonOption } from './options.js';
import { jsonDocument } from './render/warnings.js';
import { runCommand } from './run.js';

interface ChecksumsArgs {
  medium: string;
  json: boolean;
  debug: boolean;
}

export const checksumsCommand: CommandModule<{ debug: boolean }, ChecksumsArgs> = {
  command: 'checksums <medium>',
  describe: "print the lines a product build adds to its signed root list (MEDIUM/CHECKSUMS or MEDIUM/content) for every file of images/",
  builder: (y: Argv<{ debug: boolean }>) =>
    y
      .positional('medium', { type: 'string', demandOption: true, describe: 'the medium folder (holding images/)' })
      .option('json', jsonOption('files, digests and both line forms'))
      .example('$0 checksums out/medium', 'the CHECKSUMS lines, a blank line, then the content (HASH SHA256) lines'),
  handler: (args: ArgumentsCamelCase<ChecksumsArgs>) =>
    runCommand(args.debug, async () => {
      const folder = path.join(args.medium, IMAGES_DIR);
      if (!fs.existsSync(path.join(folder, 'images.xml'))) {
        throw new InputError(args.medium, `not a medium: no ${IMAGES_DIR}/images.xml`, 'name the folder that holds images/');
      }
      const lines = productLines(folder);
      process.stdout.write(
        args.json
          ? jsonDocument({ medium: args.medium, files: lines.files.map((f) => ({ path: `${IMAGES_DIR}/${f.path}`, sha256: f.sha256 })), checksums: lines.checksums, content: lines.content }, { warnings: [], codes: new Map() })
          : [...lines.checksums, '', ...lines.content].map((l) => `${l}\n`).join(''),
      );
      return 0;
    }),
};
