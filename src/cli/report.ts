// `adarec report <run folder>`: report.html, one self-contained page of a run (finished or not).
import { Command } from 'commander';
import { resolve } from 'node:path';
import { writeHtmlReport } from '../pipeline/run-folder.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('write <run folder>/report.html: every table and figure of an adarec run in one page that opens offline')
    .argument('<run folder>', 'the --out folder of adarec run (finished, still running, or stopped)')
    .option('--out <file.html>', 'where to write the page (default: <run folder>/report.html)')
    .addHelpText('after', '\nThe page holds, from the files the stages wrote:\n' +
      '  results        the table: test accuracy (full ranking, and the sampled protocol), parameters, MACs, latency and\n' +
      '                 speed-up; with --seeds n on adarec run, each mean with its 95% interval over the seeds\n' +
      '  trade-offs     NDCG@10 against latency and against parameters, with the Pareto front\n' +
      '  searched cell  the derived cell of each search (search/genotype.json)\n' +
      '  alpha          softmax(alpha) per edge over the search epochs (search/alpha.json)\n' +
      '  curves         loss and validation metric per epoch of every stage (train.jsonl, search.jsonl)\n' +
      '  data           the data set\'s statistics (data.json)\n' +
      'Everything is inlined (CSS and SVG, no script): copy the one file anywhere, it needs no network.\n' +
      'adarec run writes it at its end; run this for a run still going (a part not written yet says what is\n' +
      'missing) or one made before report.html existed.\n\n' +
      'Examples:\n  adarec report runs/adarec\n  adarec report runs/ml100k --out /tmp/ml100k.html')
    .action((folder: string, o: { out?: string }) => {
      console.log(writeHtmlReport(folder, o.out === undefined ? undefined : resolve(o.out)));
    });
}
