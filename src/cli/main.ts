#!/usr/bin/env node
// The adarec command line. Each subcommand lives in its own file; this one only wires them up.
import { Command, Help, Option } from 'commander';
import { runDemo } from './demo.js';
import { dataCommand, positiveInt } from './data.js';
import { evalCommand } from './eval.js';
import { trainCommand } from './train.js';
import { runCommand, searchCommand } from './run.js';
import { exportCommand } from './export.js';
import { serveCommand } from './serve.js';
import { profileOpsCommand } from './profile-ops.js';
import { reportCommand } from './report.js';
import { DataError } from '../data/errors.js';
import { setBackend } from '../engine/index.js';

const program = new Command()
  .name('adarec')
  .description('Compress a heavy sequential recommender into a small, fast student (AdaRec: distillation + architecture search).')
  .version('0.1.0')
  .addOption(new Option('--backend <name>', 'kernel backend (default: native when built, else js)').choices(['native', 'js']))
  .hook('preAction', (cmd) => {
    const backend = cmd.opts().backend as 'native' | 'js' | undefined;
    if (backend) setBackend(backend);
  })
  .showHelpAfterError();

program
  .command('demo')
  .description('train a small NextItNet on generated data for a few steps: shows loss going down and throughput')
  .option('--steps <n>', 'training steps', positiveInt, 150)
  .option('--batch-size <n>', 'sequences per step', positiveInt, 64)
  .option('--max-len <n>', 'sequence length', positiveInt, 50)
  .option('--hidden <n>', 'hidden size', positiveInt, 64)
  .option('--items <n>', 'number of generated items', positiveInt, 500)
  .option('--seed <n>', 'random seed', positiveInt, 1)
  .option('--log-every <n>', 'print the mean loss every n steps', positiveInt, 25)
  .addHelpText('after', '\nExample:\n  adarec demo --steps 300 --hidden 128')
  .action((o) => {
    runDemo({ steps: o.steps, batchSize: o.batchSize, maxLen: o.maxLen, hidden: o.hidden, items: o.items, seed: o.seed, logEvery: o.logEvery });
  });

program.addCommand(runCommand());
program.addCommand(dataCommand());
program.addCommand(trainCommand());
program.addCommand(evalCommand());
program.addCommand(searchCommand());
program.addCommand(reportCommand());
program.addCommand(exportCommand());
program.addCommand(serveCommand());
program.addCommand(profileOpsCommand());

/** Marks required options in every command's --help (commander enforces them but does not say so). */
function markRequired(cmd: Command): void {
  cmd.configureHelp({
    optionDescription(this: Help, option: Option): string {
      const text = Help.prototype.optionDescription.call(this, option);
      return option.mandatory ? `(required) ${text}` : text;
    },
  });
  for (const sub of cmd.commands) markRequired(sub);
}
markRequired(program);

try {
  await program.parseAsync();
} catch (e) {
  // user errors (bad data, bad options) get one line; anything else is a bug and keeps its stack
  const err = e as Error;
  const expected = err instanceof DataError || err instanceof RangeError || err.name === 'DataError';
  console.error(`adarec: ${expected || !process.env.ADAREC_DEBUG ? err.message : err.stack}`);
  process.exitCode = 1;
}
