// bench/data: ingest and prepare a generated log of ~10 million interactions (written to a
// temporary CSV by the synthetic generator): read, implicit filter, 5-core, chronological
// sequences, leave-one-out, 100 negatives per user. Rows per second and peak memory, against
// the same steps in pandas (bench/data_pandas.py) when python3-pandas is installed. Then the
// same log as Parquet (bench/data-parquet.ts, each side in its own process): adarec against its
// CSV path, and pandas.read_parquet when pandas has a Parquet engine (pyarrow or fastparquet).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticCsv } from '../src/data/synthetic.js';
import { readLog } from '../src/data/read-log.js';
import { buildPrepared } from '../src/data/prepare.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const LOG = { users: USERS, items: 50_000, topics: 200, minLength: 20, maxLength: 180, seed: 1 };
const PYTHON = process.env.ADAREC_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'adarec-bench-data-'));
const csv = join(dir, 'log.csv');
try {
  let t = performance.now();
  const rows = writeSyntheticCsv(csv, LOG);
  console.log(`generated ${rows.toLocaleString('en-US')} interactions (${(statSync(csv).size / 2 ** 20).toFixed(0)} MB CSV) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const rssBefore = process.resourceUsage().maxRSS / 1024;

  t = performance.now();
  const log = readLog(csv, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user', item: 'item', rating: 'rating', time: 'timestamp' } });
  const tRead = performance.now() - t;
  const prepared = buildPrepared(log, {
    minRating: 3, kCore: { users: 5, items: 5 }, duplicates: 'keep-all', bySession: false,
    split: { kind: 'leave-one-out' }, negatives: { count: 100, strategy: 'uniform' }, seed: 42,
  });
  const total = (performance.now() - t) / 1000;
  const rss = process.resourceUsage().maxRSS / 1024;
  const kept = prepared.dataset.items.length;
  console.log(`adarec: read ${(tRead / 1000).toFixed(2)} s, total ${total.toFixed(2)} s, ${(rows / total / 1e6).toFixed(2)} M rows/s, ` +
    `${kept.toLocaleString('en-US')} interactions kept, peak RSS ${rss.toFixed(0)} MB (${rssBefore.toFixed(0)} MB before reading)`);

  const hasPandas = spawnSync(PYTHON, ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0;
  const script = fileURLToPath(new URL('../../bench/data_pandas.py', import.meta.url));
  let pandasTotal: number | null = null;
  if (!hasPandas) {
    console.log('pandas: not installed (apt-get install -y python3-pandas) — skipped');
    console.log('ratio: unavailable');
  } else {
    const r = spawnSync(PYTHON, [script, csv, '3', '5', '100', '42'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`pandas reference failed: ${r.stderr}`);
    const p = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(`pandas: read ${p.read_s.toFixed(2)} s, total ${p.total_s.toFixed(2)} s, ${(rows / p.total_s / 1e6).toFixed(2)} M rows/s, ` +
      `${p.rows_kept.toLocaleString('en-US')} interactions kept, peak RSS ${p.maxrss_mb.toFixed(0)} MB`);
    if (p.rows_kept !== kept) console.log(`note: pandas kept ${p.rows_kept} interactions, adarec ${kept}`);
    console.log(`memory ratio: ${(rss / p.maxrss_mb).toFixed(2)}`);
    console.log(`ratio: ${(total / p.total_s).toFixed(3)}`);
    pandasTotal = p.total_s;
  }

  // the same log as Parquet
  const parquet = join(dir, 'log.parquet');
  const child = fileURLToPath(new URL('./data-parquet.js', import.meta.url));
  t = performance.now();
  const w = spawnSync(process.execPath, [child, 'write', parquet, JSON.stringify(LOG)], { encoding: 'utf8' });
  if (w.status !== 0) throw new Error(`writing the Parquet file failed: ${w.stderr}`);
  console.log(`wrote the same log as Parquet (snappy, row groups of 1M rows, ${(statSync(parquet).size / 2 ** 20).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const pr = spawnSync(process.execPath, [child, 'read', parquet], { encoding: 'utf8' });
  if (pr.status !== 0) throw new Error(`reading the Parquet file failed: ${pr.stderr}`);
  const q = JSON.parse(pr.stdout.trim().split('\n').pop()!);
  console.log(`adarec parquet: read ${q.read_s.toFixed(2)} s, total ${q.total_s.toFixed(2)} s, ${(rows / q.total_s / 1e6).toFixed(2)} M rows/s, ` +
    `${q.kept.toLocaleString('en-US')} interactions kept, peak RSS ${q.maxrss_mb.toFixed(0)} MB`);
  if (q.kept !== kept) console.log(`note: the Parquet path kept ${q.kept} interactions, the CSV path ${kept}`);
  console.log(`parquet/csv ratio: read ${(q.read_s / (tRead / 1000)).toFixed(3)}, total ${(q.total_s / total).toFixed(3)}, peak RSS ${(q.maxrss_mb / rss).toFixed(2)}`);
  if (!hasPandas) {
    console.log('pandas parquet: pandas not installed — skipped');
  } else {
    const r = spawnSync(PYTHON, [script, parquet, '3', '5', '100', '42'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status === 3) {
      console.log(`pandas parquet: unavailable (${r.stderr.trim()})`);
    } else if (r.status !== 0) {
      throw new Error(`pandas parquet reference failed: ${r.stderr}`);
    } else {
      const p = JSON.parse(r.stdout.trim().split('\n').pop()!);
      console.log(`pandas parquet: read ${p.read_s.toFixed(2)} s, total ${p.total_s.toFixed(2)} s, peak RSS ${p.maxrss_mb.toFixed(0)} MB`);
      console.log(`parquet ratio (adarec / pandas): ${(q.total_s / p.total_s).toFixed(3)}`);
    }
    if (pandasTotal !== null) console.log(`adarec parquet / pandas csv: ${(q.total_s / pandasTotal).toFixed(3)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
