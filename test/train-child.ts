// The child process of the kill test in train.test.ts: trains on tinyData() into a run folder
// and, when asked, parks itself in the middle of an epoch (after a marker file says so) so that
// the parent can SIGKILL it there.
//   node dist/test/train-child.js <outDir> <config json> [<epoch to stop in> <marker file>]
// `node --test dist/test/` also loads this file: without arguments it does nothing.
import { writeFileSync } from 'node:fs';
import { parseTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { tinyData } from './train-fixture.js';

const [outDir, configJson, stopEpoch, marker] = process.argv.slice(2);
if (outDir && configJson) {
  const parked = new Int32Array(new SharedArrayBuffer(4));
  await train({
    config: parseTrainConfig(JSON.parse(configJson), 'argv'),
    data: tinyData(),
    outDir,
    log: () => {},
    onBatchEnd: ({ epoch, batch }) => {
      if (stopEpoch && epoch === Number(stopEpoch) && batch === 1) {
        writeFileSync(marker, `${process.pid}\n`);
        Atomics.wait(parked, 0, 0, 60_000); // wait here to be killed mid-epoch
        process.exit(3); // never killed: the parent test fails on this exit code
      }
    },
  });
}
