// The trainer: config validation, checkpoints (round trip, atomic writes, clear mismatches),
// learning, early stopping, BERT4Rec's masked -> causal path, and that a run killed mid-epoch
// resumes to bit-identical weights.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, backward, optim, tidy } from '../src/engine/index.js';
import { nextItemBatch } from '../src/data/batch.js';
import { syntheticSequences } from '../src/data/synthetic.js';
import { BERT4Rec } from '../src/models/bert4rec.js';
import { NextItNet } from '../src/models/nextitnet.js';
import {
  assertResumable, captureCheckpoint, encodeCheckpoint, readCheckpoint, restoreCheckpoint, saveCheckpoint, writeFileAtomic, type Checkpoint,
} from '../src/train/checkpoint.js';
import { buildModel, parseTrainConfig, readTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { loadTrainedModel } from '../src/train/load.js';
import { train, type EpochRecord } from '../src/train/trainer.js';
import { tinyData } from './train-fixture.js';

let root = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'adarec-train-')); });
after(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;
const runDir = (name: string): string => join(root, `${name}-${++runs}`);
const quiet = (): void => {};

const tinyNextItNet: TrainConfigInput = {
  model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, batchSize: 32, epochs: 5,
  optimizer: { lr: 0.01, lrDecay: { gamma: 0.5, everyEpochs: 2 } },
};
const tinySasRec: TrainConfigInput = {
  model: { kind: 'sasrec', hidden: 16, blocks: 2, heads: 2 }, maxLength: 12, batchSize: 32, epochs: 5, optimizer: { clipNorm: 1 },
};
const tinyBert: TrainConfigInput = {
  model: { kind: 'bert4rec', hidden: 16, blocks: 2, heads: 2, pretrainEpochs: 3, finetuneLr: 1e-3, finetuneDropout: 0.4 }, maxLength: 12, batchSize: 32, epochs: 2,
};

function readLog(dir: string): EpochRecord[] {
  return readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Same tensor names, shapes and bit-identical values; same RNG states and progress. */
function assertSameCheckpoint(a: Checkpoint, b: Checkpoint, what: string): void {
  assert.deepEqual(a.tensors.map((t) => t.name), b.tensors.map((t) => t.name), `${what}: tensor names`);
  a.tensors.forEach((t, i) => {
    const u = b.tensors[i];
    assert.deepEqual(t.shape, u.shape, `${what}: ${t.name} shape`);
    if (Buffer.compare(bytesOf(t.values), bytesOf(u.values)) !== 0) {
      const at = t.values.findIndex((x, j) => !Object.is(x, u.values[j]));
      assert.fail(`${what}: ${t.name} differs at ${at}: ${t.values[at]} vs ${u.values[at]}`);
    }
  });
  assert.deepEqual(a.meta.rngs, b.meta.rngs, `${what}: rng states`);
  assert.deepEqual(a.meta.progress, b.meta.progress, `${what}: progress`);
  assert.deepEqual(a.meta.optimizers, b.meta.optimizers, `${what}: optimizers`);
}

const withoutTimes = (r: EpochRecord): Partial<EpochRecord> => ({ ...r, seconds: 0, evalSeconds: 0, sequencesPerSecond: 0 });

describe('train config', () => {
  it('names the file and every bad key path', () => {
    assert.throws(() => parseTrainConfig({ model: 'nextitnet', optimizer: { lr: '0.1' }, lerning_rate: 3 }, 'config.json'),
      { message: "config.json: optimizer.lr: expected number, got string; unknown key 'lerning_rate'" });
    assert.throws(() => parseTrainConfig({ model: { kind: 'sasrec', heads: 3, hiden: 64 }, earlyStopping: { metric: 'auc' } }, 'c.json'),
      (e: Error) => /^c\.json: /.test(e.message) && e.message.includes("model: unknown key 'hiden'") &&
        e.message.includes('model.heads: hidden 128 is not divisible by 3 heads') && e.message.includes('earlyStopping.metric: expected a metric'));
    assert.throws(() => parseTrainConfig({ model: { kind: 'gru' } }, 'x.json'), /x\.json: model\.kind: expected one of 'nextitnet', 'sasrec', 'bert4rec', 'adarec', got "gru"/);
    assert.throws(() => parseTrainConfig({}, 'x.json'), /x\.json: model: required/);
    assert.throws(() => parseTrainConfig({ model: 'sasrec', epochs: 0, validation: { protocol: 'all' } }, 'x.json'),
      /epochs: must be > 0; validation\.protocol: expected one of 'full', 'sampled', got "all"/);
  });

  it('fills METHOD.md reference sizes and per-model optimisers', () => {
    const n = parseTrainConfig({ model: 'nextitnet' }, 'x');
    assert.deepEqual(n.model, { kind: 'nextitnet', hidden: 256, dilations: Array.from({ length: 16 }, (_, i) => (i % 2 ? 4 : 1)), kernelSize: 3, residual: 'learned', dropout: 0 });
    assert.deepEqual(n.optimizer, { name: 'adam', lr: 1e-3, weightDecay: 1e-7, lrDecay: { gamma: 0.9, everyEpochs: 10 }, clipNorm: null });
    assert.equal(n.earlyStopping.metric, 'ndcg@10');
    assert.equal(n.validation.protocol, 'full');
    const s = parseTrainConfig({ model: 'sasrec', optimizer: { weightDecay: 0 } }, 'x');
    assert.deepEqual([s.model.kind === 'sasrec' && s.model.hidden, s.optimizer.name, s.optimizer.lr, s.optimizer.weightDecay], [128, 'lamb', 5e-3, 0]);
    const b = parseTrainConfig({ model: { kind: 'bert4rec' } }, 'x');
    assert.ok(b.model.kind === 'bert4rec');
    assert.deepEqual([b.model.maskProb, b.model.finetuneLr, b.model.blocks, b.optimizer.name], [0.5, 2e-5, 8, 'lamb']);
    // the parsed config is itself a valid config file
    assert.deepEqual(parseTrainConfig(JSON.parse(JSON.stringify(b)), 'again'), b);
  });

  it('readTrainConfig names a file that is not JSON', () => {
    const path = join(root, 'bad.json');
    writeFileSync(path, '{ "model": ');
    assert.throws(() => readTrainConfig(path), new RegExp(`^Error: ${path.replace(/[.]/g, '\\.')}: not valid JSON`));
  });
});

describe('checkpoints', () => {
  function trainedNextItNet(seed: number, hidden = 8): { model: NextItNet; opt: optim.Adam; rng: Rng } {
    const rng = new Rng(seed);
    const model = new NextItNet({ vocabSize: 31, hidden, dilations: [1, 2], kernelSize: 3, residual: 'learned' }, rng);
    const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
    tidy(() => {
      const { inputs, targets } = nextItemBatch(syntheticSequences({ users: 8, items: 30, seed }), 10);
      backward(model.loss(inputs, targets));
      opt.step();
    });
    rng.normal(); // leaves a Box-Muller spare in the state
    return { model, opt, rng };
  }
  const config = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] } }, 'test');
  const progress = { epoch: 3, step: 30, bestMetric: 0.25, bestEpoch: 2, bestMetrics: { 'ndcg@10': 0.25 }, badEpochs: 1, stopped: false };
  const snapshot = (t: ReturnType<typeof trainedNextItNet>, manifestHash = 'abc123'): Checkpoint => captureCheckpoint({
    model: t.model, optimizers: { model: { optimizer: t.opt, name: 'adam', phase: 'autoregressive' } }, rngs: { model: t.rng },
    meta: { vocabSize: 31, config, manifestHash, progress },
  });

  it('round-trips weights, optimizer state, RNG state and progress', () => {
    const dir = runDir('ckpt'), path = join(dir, 'last.ckpt');
    const a = trainedNextItNet(1);
    const saved = snapshot(a);
    mkdirSync(dir);
    saveCheckpoint(path, saved);
    assert.deepEqual(readdirSync(dir), ['last.ckpt'], 'no temp file is left behind');
    const loaded = readCheckpoint(path);
    assertSameCheckpoint(loaded, saved, 'read back');
    assert.deepEqual(loaded.meta.config, config);
    const b = trainedNextItNet(2);
    restoreCheckpoint(loaded, path, { model: b.model, optimizers: { model: { optimizer: b.opt } }, rngs: { model: b.rng } });
    assertSameCheckpoint(snapshot(b), saved, 'restored');
    assert.equal(b.rng.normal(), a.rng.normal(), 'the RNGs continue identically (spare included)');
    assert.equal(b.rng.uniform(), a.rng.uniform());
  });

  it('reads format version 1 (one optimizer, tensors optimizer/<param>/<slot>) as the trainer\'s model optimizer', () => {
    const path = join(root, 'v1.ckpt');
    const saved = snapshot(trainedNextItNet(1));
    const { optimizers, ...meta } = saved.meta;
    const v1 = {
      meta: { ...meta, optimizer: optimizers.model } as unknown as Checkpoint['meta'],
      tensors: saved.tensors.map((t) => ({ ...t, name: t.name.replace(/^optimizers\/model\/param\//, 'optimizer/') })),
    };
    assert.ok(v1.tensors.some((t) => t.name.startsWith('optimizer/')));
    const bytes = Buffer.concat(encodeCheckpoint(v1, { version: 2 }));
    bytes.writeUInt32LE(1, 8);
    writeFileSync(path, bytes);
    assertSameCheckpoint(readCheckpoint(path), saved, 'version 1 read back');
    bytes.writeUInt32LE(7, 8);
    writeFileSync(path, bytes);
    assert.throws(() => readCheckpoint(path), /format version 7; this adarec reads versions 1 to 3/);
    // version 2 (payload checksum only) is read as written
    writeFileSync(path, Buffer.concat(encodeCheckpoint(saved, { version: 2 })));
    assertSameCheckpoint(readCheckpoint(path), saved, 'version 2 read back');
  });

  it('a failed write leaves the old file intact and no temp file', () => {
    const path = join(root, 'atomic.bin');
    writeFileAtomic(path, [Buffer.from('old contents')]);
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('new cont');
      throw new Error('disk on fire');
    }
    assert.throws(() => writeFileAtomic(path, failing()), /disk on fire/);
    assert.equal(readFileSync(path, 'utf8'), 'old contents');
    assert.deepEqual(readdirSync(root).filter((f) => f.includes('atomic')), ['atomic.bin']);
  });

  it('says clearly what does not fit', () => {
    const path = join(root, 'fit.ckpt');
    const a = trainedNextItNet(1);
    saveCheckpoint(path, snapshot(a));
    const ckpt = readCheckpoint(path);
    const wider = trainedNextItNet(1, 12);
    assert.throws(() => restoreCheckpoint(ckpt, path, { model: wider.model }),
      new RegExp(`checkpoint ${path} does not fit this model: param/embedding.weight has shape \\[31, 8\\], the model's is \\[31, 12\\]`));
    assert.throws(() => assertResumable(ckpt, 'runs/x/last.ckpt', { manifestHash: 'def456', vocabSize: 31, config }),
      { message: 'checkpoint runs/x/last.ckpt was written for data abc123, this data is def456' });
    const other = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] }, optimizer: { lr: 0.5 }, epochs: 99 }, 'x');
    assert.throws(() => assertResumable(ckpt, 'p', { manifestHash: 'abc123', vocabSize: 31, config: other }),
      { message: 'checkpoint p was written with a different config: optimizer.lr 0.001 (now 0.5)' });
    // corrupt and truncated files
    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] ^= 0xff;
    writeFileSync(path, flipped);
    assert.throws(() => readCheckpoint(path), /truncated or corrupt \(checksum mismatch\)/);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    assert.throws(() => readCheckpoint(path), /truncated or corrupt/);
    writeFileSync(path, 'hello, world, not a checkpoint');
    assert.throws(() => readCheckpoint(path), /is not an adarec checkpoint \(bad magic\)/);
  });
});

describe('train()', () => {
  it('a tiny NextItNet learns: validation far above chance, logs and checkpoints written', async () => {
    const dir = runDir('nextitnet');
    const data = tinyData();
    const config = parseTrainConfig(tinyNextItNet, 'test');
    const lines: string[] = [];
    const r = await train({ config, data, outDir: dir, log: (l) => lines.push(l) });
    const log = readLog(dir);
    assert.deepEqual(log.map((l) => l.epoch), [1, 2, 3, 4, 5]);
    assert.deepEqual(log.map((l) => l.lr), [0.01, 0.01, 0.005, 0.005, 0.0025]);
    for (const l of log) for (const k of ['loss', 'seconds', 'sequencesPerSecond', 'gradNorm']) assert.ok(Number.isFinite((l as unknown as Record<string, number>)[k]), k);
    assert.ok(log[4].loss < log[0].loss, 'training loss falls');
    // random ranking of 60 items puts the target in the top 10 one time in six
    const chance = 10 / data.dataset.numItems;
    assert.ok(r.bestMetrics!['hr@10'] > 3 * chance, `validation hr@10 ${r.bestMetrics!['hr@10']} vs chance ${chance}`);
    assert.ok(log[4].metrics['ndcg@10'] > log[0].metrics['ndcg@10'], 'validation improves');
    assert.ok(r.testMetrics['hr@10'] > 3 * chance, `test hr@10 ${r.testMetrics['hr@10']}`);
    assert.equal(r.epochsRun, 5);
    assert.equal(r.bestEpoch, log.reduce((b, l) => (l.metrics['ndcg@10'] > b.metrics['ndcg@10'] ? l : b)).epoch);
    assert.deepEqual(readdirSync(dir).sort(), ['best.ckpt', 'config.json', 'items.json', 'last.ckpt', 'result.json', 'train.jsonl']);
    assert.deepEqual(readTrainConfig(join(dir, 'config.json')), config);
    assert.equal(readCheckpoint(join(dir, 'best.ckpt')).meta.progress.epoch, r.bestEpoch);
    assert.ok(lines.some((l) => l.startsWith('epoch 5/5: loss')), lines.join('\n'));
    // the saved best model scores like the run said
    const { model } = loadTrainedModel(join(dir, 'best.ckpt'));
    assert.equal(model.parameterCount(), buildModel(config, 61, new Rng(0)).parameterCount());
    model.dispose();
    await assert.rejects(train({ config, data, outDir: dir, log: quiet }), /already holds a run \(last\.ckpt\): resume it or choose another folder/);
    await assert.rejects(train({ config, data: { ...data, manifestHash: 'other' }, outDir: dir, resume: true, log: quiet }),
      /was written for data synthetic-5-300-60, this data is other/);
  });

  it('early stopping ends the run after `patience` epochs without improvement', async () => {
    const dir = runDir('early');
    // an lr far below float32 resolution leaves the weights, hence the metric, unchanged
    const config = parseTrainConfig({ ...tinyNextItNet, epochs: 20, optimizer: { lr: 1e-15 }, earlyStopping: { metric: 'mrr@5', patience: 2 } }, 'test');
    const r = await train({ config, data: tinyData(), outDir: dir, log: quiet });
    assert.deepEqual([r.epochsRun, r.bestEpoch, r.stoppedEarly], [3, 1, true]);
    assert.deepEqual(readLog(dir).map((l) => l.improved), [true, false, false]);
    // resuming a run that stopped trains no further
    const again = await train({ config, data: tinyData(), outDir: dir, resume: true, log: quiet });
    assert.deepEqual(again, r);
    assert.equal(readLog(dir).length, 3);
  });

  it('validates under the sampled protocol with the fixed negatives', async () => {
    const config = parseTrainConfig({ ...tinyNextItNet, epochs: 1, validation: { protocol: 'sampled' } }, 'test');
    await assert.rejects(train({ config, data: tinyData(), outDir: runDir('no-negatives'), log: quiet }),
      /validation\.protocol is 'sampled' but the data set has no fixed negatives/);
    const dir = runDir('sampled');
    const r = await train({ config, data: tinyData({}, 20), outDir: dir, log: quiet });
    assert.equal(readLog(dir)[0].protocol, 'sampled');
    // 21 candidates: the target always ranks within the top 21, so hr@20 < 1 only when it ranks last
    assert.ok(r.bestMetrics!['hr@20'] >= r.bestMetrics!['hr@10'] && r.bestMetrics!['hr@20'] > 0.9);
    assert.ok(r.testMetrics['ndcg@10'] > 0);
  });

  it('BERT4Rec pre-trains masked, then finetunes causally at finetuneLr', async () => {
    const dir = runDir('bert');
    const config = parseTrainConfig(tinyBert, 'test');
    const r = await train({ config, data: tinyData(), outDir: dir, log: quiet });
    const log = readLog(dir);
    assert.deepEqual(log.map((l) => l.phase), ['masked', 'masked', 'masked', 'autoregressive', 'autoregressive']);
    assert.deepEqual(log.map((l) => l.lr), [5e-3, 5e-3, 5e-3, 1e-3, 1e-3]);
    assert.deepEqual(log.map((l) => l.improved), [false, false, false, true, log[4].metrics['ndcg@10'] > log[3].metrics['ndcg@10']]);
    for (const l of log) assert.ok(Number.isFinite(l.loss) && Number.isFinite(l.metrics['ndcg@10']));
    assert.ok(r.bestEpoch === 4 || r.bestEpoch === 5);
    const { model } = loadTrainedModel(join(dir, 'best.ckpt'));
    assert.ok(model instanceof BERT4Rec && model.causal, 'the best checkpoint holds the causal model');
    model.dispose();
  });

  it('BERT4Rec finetuneDropout changes the causal finetune only', async () => {
    const { finetuneDropout: _, ...samePhases } = tinyBert.model as Record<string, unknown>;
    const dirA = runDir('bert-fd'), dirB = runDir('bert-nofd');
    const withRate = await train({ config: parseTrainConfig(tinyBert, 'test'), data: tinyData(), outDir: dirA, log: quiet });
    const without = await train({ config: parseTrainConfig({ ...tinyBert, model: samePhases }, 'test'), data: tinyData(), outDir: dirB, log: quiet });
    const a = readLog(dirA), b = readLog(dirB);
    assert.deepEqual(a.slice(0, 3).map((l) => [l.loss, l.metrics]), b.slice(0, 3).map((l) => [l.loss, l.metrics]), 'masked epochs are identical');
    for (const e of [3, 4]) assert.notEqual(a[e].loss, b[e].loss, `finetune epoch ${e + 1} trains with 0.4, not 0.2`);
    assert.notDeepEqual(withRate.testMetrics, without.testMetrics);
    const dirC = runDir('bert-fd-same');
    const explicit = await train({ config: parseTrainConfig({ ...tinyBert, model: { ...samePhases, finetuneDropout: 0.2 } }, 'test'), data: tinyData(), outDir: dirC, log: quiet });
    assert.deepEqual(explicit, without, 'unset means the pre-training rate (0.2)');
  });

  it('shuffleTies reorders tied training items each epoch, and changes nothing without ties', async () => {
    const shuffled = parseTrainConfig({ ...tinySasRec, epochs: 2, shuffleTies: true }, 'test'), plain = parseTrainConfig({ ...tinySasRec, epochs: 2 }, 'test');
    const untied = tinyData({ distinctTimes: true });
    const [a, b] = [runDir('ties-none-on'), runDir('ties-none-off')];
    assert.deepEqual(await train({ config: shuffled, data: untied, outDir: a, log: quiet }), await train({ config: plain, data: untied, outDir: b, log: quiet }));
    assertSameCheckpoint(readCheckpoint(join(a, 'last.ckpt')), readCheckpoint(join(b, 'last.ckpt')), 'no ties: same weights');
    const [c, d] = [runDir('ties-on'), runDir('ties-off')];
    const lines: string[] = [];
    await train({ config: shuffled, data: tinyData(), outDir: c, log: (m) => lines.push(m) });
    await train({ config: plain, data: tinyData(), outDir: d, log: quiet });
    assert.ok(lines.some((l) => /shuffleTies: 1,\d{3} training items share their timestamp/.test(l)), lines.join('\n'));
    for (const e of [0, 1]) assert.notEqual(readLog(c)[e].loss, readLog(d)[e].loss, `epoch ${e + 1} sees other orders`);
  });

  it('resumes a run whose checkpoint predates a config key (its default is assumed)', async () => {
    const dir = runDir('old-config');
    await train({ config: parseTrainConfig({ ...tinySasRec, epochs: 1 }, 'test'), data: tinyData(), outDir: dir, log: quiet });
    const last = join(dir, 'last.ckpt');
    const ckpt = readCheckpoint(last);
    const { shuffleTies: _, ...older } = ckpt.meta.config;
    saveCheckpoint(last, { ...ckpt, meta: { ...ckpt.meta, config: older as typeof ckpt.meta.config } });
    const r = await train({ config: parseTrainConfig({ ...tinySasRec, epochs: 2 }, 'test'), data: tinyData(), outDir: dir, resume: true, log: quiet });
    assert.equal(r.epochsRun, 2);
    await assert.rejects(train({ config: parseTrainConfig({ ...tinySasRec, epochs: 3, shuffleTies: true }, 'test'), data: tinyData(), outDir: dir, resume: true, log: quiet }),
      /different config: shuffleTies false \(now true\)/);
  });

  it('an aborted run resumes to the same weights as an uninterrupted one', async () => {
    const config = parseTrainConfig(tinySasRec, 'test');
    const ref = runDir('sasrec-ref'), cut = runDir('sasrec-abort');
    const expected = await train({ config, data: tinyData(), outDir: ref, log: quiet });
    const controller = new AbortController();
    await assert.rejects(train({
      config, data: tinyData(), outDir: cut, log: quiet, signal: controller.signal,
      onBatchEnd: ({ epoch, batch }) => { if (epoch === 2 && batch === 4) controller.abort(); },
    }), { name: 'AbortError', message: /interrupted in epoch 2; .*last\.ckpt holds epoch 1: resume to continue/ });
    const got = await train({ config, data: tinyData(), outDir: cut, resume: true, log: quiet });
    assert.deepEqual(got, expected);
    assertSameCheckpoint(readCheckpoint(join(cut, 'last.ckpt')), readCheckpoint(join(ref, 'last.ckpt')), 'last.ckpt');
  });
});

describe('kill test: SIGKILL mid-epoch, then resume', () => {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'train-child.js');

  async function killMidEpoch(outDir: string, config: TrainConfigInput, epoch: number): Promise<void> {
    const marker = join(root, `marker-${++runs}`);
    const proc = spawn(process.execPath, [child, outDir, JSON.stringify(config), String(epoch), marker], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    let early: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    void exited.then((e) => { early = e; });
    const deadline = Date.now() + 60_000;
    while (!existsSync(marker)) {
      if (early) assert.fail(`the child exited (${JSON.stringify(early)}) before reaching epoch ${epoch}: ${stderr}`);
      if (Date.now() > deadline) { proc.kill('SIGKILL'); assert.fail('the child never reached the marker'); }
      await new Promise((r) => setTimeout(r, 10));
    }
    proc.kill('SIGKILL');
    assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
  }

  const cases: [string, TrainConfigInput, number][] = [
    ['nextitnet', tinyNextItNet, 3],
    ['sasrec (dropout, shuffleTies)', { ...tinySasRec, shuffleTies: true }, 3],
    ['bert4rec (killed while masked, resumed into the finetune)', tinyBert, 3],
  ];
  for (const [name, input, killEpoch] of cases) {
    it(name, async () => {
      const config = parseTrainConfig(input, 'test');
      const ref = runDir('ref'), cut = runDir('killed');
      await killMidEpoch(cut, input, killEpoch);
      const atKill = readCheckpoint(join(cut, 'last.ckpt'));
      assert.equal(atKill.meta.progress.epoch, killEpoch - 1, 'last.ckpt holds the last whole epoch');
      assert.equal(readLog(cut).length, killEpoch - 1);
      const resumed = await train({ config, data: tinyData(), outDir: cut, resume: true, log: quiet });
      const expected = await train({ config, data: tinyData(), outDir: ref, log: quiet });
      assert.deepEqual(resumed, expected, 'same best epoch, metrics and test metrics');
      assertSameCheckpoint(readCheckpoint(join(cut, 'last.ckpt')), readCheckpoint(join(ref, 'last.ckpt')), 'last.ckpt');
      assertSameCheckpoint(readCheckpoint(join(cut, 'best.ckpt')), readCheckpoint(join(ref, 'best.ckpt')), 'best.ckpt');
      assert.deepEqual(readLog(cut).map(withoutTimes), readLog(ref).map(withoutTimes), 'the same train.jsonl, timings aside');
      assert.deepEqual(readdirSync(cut).sort(), readdirSync(ref).sort(), 'no temp files left');
    });
  }
});
