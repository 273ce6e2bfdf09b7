"""SASRec (Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018) in PyTorch, as in
the paper and the authors' TensorFlow code (github.com/kang205/SASRec), trained and evaluated on a
split that adarec exported (bench/export-split.ts), so that it sees exactly the training sequences,
validation/test examples and fixed negatives that `adarec train` sees. This is the reference our
own SASRec (src/models/sasrec.ts) is compared with in docs/RESULTS.md ("ML-1M, SASRec's protocol").

Usage (run with /usr/bin/python3; Debian: apt-get install python3-torch):
  npx tsc -p tsconfig.json
  node dist/bench/export-split.js /work/shared/data/ml-1m-sasrec/ml-1m.txt --cache-dir ~/adarec-runs/cache \\
    --out ~/adarec-runs/ml1m/ml-1m.split
  /usr/bin/python3 bench/torch_sasrec.py --split ~/adarec-runs/ml1m/ml-1m.split --out ~/adarec-runs/ml1m/torch-sasrec-s1
  ... the same command with --resume continues a killed run from its last whole epoch.
Options (defaults = the paper's ML-1M configuration): --hidden 50 --blocks 2 --heads 1 --dropout 0.2
--maxlen 200 --batch 128 --lr 1e-3 --epochs 200 --seed 1 --threads 1; --eval-every N (1: validate
every epoch), --patience N (stop after N validations without improvement of --metric; 0 = never,
default 20), --metric ndcg@10 (on the sampled protocol), --eval-batch 256, --max-batches N (smoke
tests: stop each epoch after N batches).

The model (the authors' code where the paper leaves a detail open):
  - input: the last `maxlen` items, left-padded with 0; item embedding * sqrt(d) + learned position
    embedding (position = index in the padded window), dropout, padding positions zeroed;
  - each block: Q = LayerNorm(x); causal single/multi-head attention with queries from Q and keys
    and values from the unnormalised x (linear Q/K/V maps with bias, no output map, padded keys
    masked, dropout on the attention weights); residual Q + attention; then y = LayerNorm(.);
    point-wise FFN Linear-ReLU-dropout-Linear-dropout; residual y + FFN; padding positions zeroed;
    (the residuals add the normalised inputs, as the authors' code does);
  - a final LayerNorm; scores are dot products with the shared item embedding;
  - loss: binary cross-entropy at every non-padding position, the next item as the positive and
    one item sampled uniformly among those not in the user's training sequence as the negative;
  - Adam lr 1e-3, betas (0.9, 0.98), no weight decay (the paper's l2_emb is 0 for ML-1M);
  - an epoch is one training sample per user, in a fresh random order: the last maxlen + 1 items
    of the user's training sequence (inputs = all but the last, targets = all but the first).
    (The authors' sampler draws users with replacement, len(users)/batch batches an epoch; here
    each user appears exactly once an epoch.)
Initialisation: Xavier uniform for every matrix (the TF code's default initializer), zero biases,
LayerNorm weight 1 / bias 0, padding row 0 of the item embedding kept at zero.

Evaluation, as adarec's (src/eval/metrics.ts, src/eval/evaluate.ts): the input is the example's
prefix (its last maxlen items); sampled protocol: the target's rank among itself and the user's
fixed negatives; full ranking: its rank among all items 1..n (padding excluded, seen items not
excluded). Ties are pessimistic: an item scoring equal to the target ranks ahead of it; a NaN
target score gets the worst rank. HR/NDCG/MRR at 1, 5, 10, 20. The validation examples are
evaluated every --eval-every epochs under both protocols; the best epoch is chosen on --metric of
the sampled protocol (strictly better than the best so far), its weights saved, and at the end the
test examples are evaluated with those weights under both protocols.

Files in --out: checkpoint.pt (the last whole epoch: model, optimizer, both RNGs, history, the
best epoch's weights; written atomically every epoch), best.pt (the best epoch's weights), train.jsonl (one line per epoch:
loss, seconds, validation metrics when evaluated), result.json (the best epoch, its validation
metrics, test metrics under both protocols, epoch times, the configuration), written at the end.
"""
import argparse, json, math, os, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

MAGIC = b'adarec-split 1\n'
KS = (1, 5, 10, 20)
MASKED = float(-2 ** 32 + 1)  # the TF code's padding value for masked attention logits


# ---------------------------------------------------------------- data

def read_split(path):
    """The file of bench/export-split.ts: header dict and int64 numpy arrays by section name."""
    with open(path, 'rb') as f:
        raw = f.read()
    if not raw.startswith(MAGIC):
        raise ValueError(f'{path} is not an adarec split file (version 1)')
    end = raw.index(b'\n', len(MAGIC))
    header = json.loads(raw[len(MAGIC):end].decode('utf8'))
    pos = end + 1
    arrays = {}
    for s in header['sections']:
        n = s['length']
        arrays[s['name']] = np.frombuffer(raw, dtype='<i4', count=n, offset=pos).astype(np.int64)
        pos += 4 * n
    if pos != len(raw):
        raise ValueError(f'{path}: {len(raw) - pos} bytes after the last section (truncated or not version 1)')
    return header, arrays


def rows(items, offsets):
    return [items[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def left_pad(seqs, maxlen):
    """[len(seqs), maxlen] int64 tensor: each sequence's last maxlen items, right-aligned, 0-padded."""
    out = np.zeros((len(seqs), maxlen), dtype=np.int64)
    for i, s in enumerate(seqs):
        s = s[-maxlen:]
        if len(s):
            out[i, maxlen - len(s):] = s
    return torch.from_numpy(out)


# ---------------------------------------------------------------- model

class Attention(nn.Module):
    """The TF code's multihead_attention: Q/K/V maps, scaled dot product, padded keys and the
    future masked, softmax, dropout on the weights, heads concatenated, residual on the queries."""

    def __init__(self, d, heads, dropout):
        super().__init__()
        assert d % heads == 0, 'hidden must be a multiple of heads'
        self.h = heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, queries, keys, mask):  # mask [B, T, T]: True where attention is not allowed
        B, T, d = queries.shape
        split = lambda x: x.view(B, T, self.h, d // self.h).transpose(1, 2)  # [B, h, T, d/h]
        q, k, v = split(self.q(queries)), split(self.k(keys)), split(self.v(keys))
        w = q @ k.transpose(-1, -2) / math.sqrt(d // self.h)
        w = self.drop(torch.softmax(w.masked_fill(mask.unsqueeze(1), MASKED), dim=-1))
        return queries + (w @ v).transpose(1, 2).reshape(B, T, d)


class FeedForward(nn.Module):
    def __init__(self, d, dropout):
        super().__init__()
        self.l1, self.l2 = nn.Linear(d, d), nn.Linear(d, d)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x):
        return x + self.drop2(self.l2(self.drop1(F.relu(self.l1(x)))))


class SASRec(nn.Module):
    def __init__(self, n_items, d, blocks, heads, dropout, maxlen):
        super().__init__()
        self.d, self.maxlen = d, maxlen
        self.item_emb = nn.Embedding(n_items + 1, d, padding_idx=0)
        self.pos_emb = nn.Embedding(maxlen, d)
        self.emb_drop = nn.Dropout(dropout)
        self.attn_ln = nn.ModuleList([nn.LayerNorm(d, eps=1e-8) for _ in range(blocks)])
        self.attn = nn.ModuleList([Attention(d, heads, dropout) for _ in range(blocks)])
        self.ffn_ln = nn.ModuleList([nn.LayerNorm(d, eps=1e-8) for _ in range(blocks)])
        self.ffn = nn.ModuleList([FeedForward(d, dropout) for _ in range(blocks)])
        self.last_ln = nn.LayerNorm(d, eps=1e-8)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.xavier_uniform_(p)
            elif 'ln' not in name:
                nn.init.zeros_(p)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def hidden(self, seq):  # seq [B, T] item ids, left-padded with 0 -> [B, T, d]
        B, T = seq.shape
        keep = (seq != 0).unsqueeze(-1).to(self.item_emb.weight.dtype)
        pos = torch.arange(T, device=seq.device).unsqueeze(0).expand(B, T)
        x = self.item_emb(seq) * math.sqrt(self.d) + self.pos_emb(pos)
        x = self.emb_drop(x) * keep
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=seq.device), diagonal=1)
        mask = future.unsqueeze(0) | (seq == 0).unsqueeze(1)  # [B, T(query), T(key)]
        for ln_a, attn, ln_f, ffn in zip(self.attn_ln, self.attn, self.ffn_ln, self.ffn):
            x = attn(ln_a(x), x, mask)
            x = ffn(ln_f(x)) * keep
        return self.last_ln(x)

    def loss(self, seq, pos, neg):
        h = self.hidden(seq)
        pos_logits = (h * self.item_emb(pos)).sum(-1)
        neg_logits = (h * self.item_emb(neg)).sum(-1)
        target = pos != 0
        bce = F.binary_cross_entropy_with_logits
        return (bce(pos_logits[target], torch.ones_like(pos_logits[target]), reduction='sum') +
                bce(neg_logits[target], torch.zeros_like(neg_logits[target]), reduction='sum')) / target.sum()

    def score_last(self, seq):  # [B, n_items + 1]
        return self.hidden(seq)[:, -1] @ self.item_emb.weight.t()


# ---------------------------------------------------------------- training data

class Trainer:
    def __init__(self, header, arrays, args):
        self.n = header['numItems']
        self.maxlen = args.maxlen
        self.train = rows(arrays['train.items'], arrays['train.offsets'])
        self.users = np.array([u for u, s in enumerate(self.train) if len(s) >= 2], dtype=np.int64)

    def batches(self, gen, batch):
        order = self.users[torch.randperm(len(self.users), generator=gen).numpy()]
        for b in range(0, len(order), batch):
            yield self.make_batch(order[b:b + batch], gen)

    def make_batch(self, users, gen):
        windows = [self.train[u][-(self.maxlen + 1):] for u in users]
        seq = left_pad([w[:-1] for w in windows], self.maxlen)
        pos = left_pad([w[1:] for w in windows], self.maxlen)
        # negatives: uniform over 1..n, redrawn while in the user's training sequence
        B = len(users)
        seen = torch.zeros(B, self.n + 1, dtype=torch.bool)
        for i, u in enumerate(users):
            seen[i, torch.from_numpy(self.train[u])] = True
        neg = torch.randint(1, self.n + 1, (B, self.maxlen), generator=gen)
        bad = seen.gather(1, neg)
        while bad.any():
            neg[bad] = torch.randint(1, self.n + 1, (int(bad.sum()),), generator=gen)
            bad = seen.gather(1, neg)
        return seq, pos, neg.masked_fill(pos == 0, 0)


# ---------------------------------------------------------------- evaluation

def summarize(ranks):
    out = {}
    for k in KS:
        hit = ranks < k
        out[f'hr@{k}'] = float(hit.double().mean())
        out[f'ndcg@{k}'] = float(torch.where(hit, 1 / torch.log2(ranks.double() + 2), torch.zeros((), dtype=torch.float64)).mean())
        out[f'mrr@{k}'] = float(torch.where(hit, 1 / (ranks.double() + 1), torch.zeros((), dtype=torch.float64)).mean())
    return out


@torch.no_grad()
def evaluate(model, header, arrays, part, maxlen, batch):
    """Metrics of the `part` examples ('valid' or 'test') under both protocols."""
    model.eval()
    inputs = rows(arrays[f'{part}.inputs'], arrays[f'{part}.offsets'])
    targets = torch.from_numpy(arrays[f'{part}.targets'])
    sequences = torch.from_numpy(arrays[f'{part}.sequence'])
    c = header['negativesPerSequence']
    negatives = torch.from_numpy(arrays['negatives.items']).view(-1, c) if c else None
    full, sampled = [], []
    for b in range(0, len(inputs), batch):
        scores = model.score_last(left_pad(inputs[b:b + batch], maxlen))
        tgt = targets[b:b + batch]
        s = scores.gather(1, tgt.unsqueeze(1))  # [B, 1]
        nan = torch.isnan(s.squeeze(1))
        ahead = (scores >= s) | torch.isnan(scores)
        ahead[:, 0] = False  # padding
        ahead.scatter_(1, tgt.unsqueeze(1), False)
        full.append(torch.where(nan, torch.full_like(tgt, scores.shape[1] - 1), ahead.sum(1)))
        if negatives is not None:
            neg = negatives[sequences[b:b + batch]]
            ns = scores.gather(1, neg)
            r = ((ns >= s) | torch.isnan(ns)).sum(1)
            sampled.append(torch.where(nan, torch.full_like(r, c), r))
    model.train()
    out = {'full': summarize(torch.cat(full))}
    if sampled:
        out['sampled'] = summarize(torch.cat(sampled))
    return out


# ---------------------------------------------------------------- checkpoints

def save_atomic(obj, path):
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'wb') as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_text_atomic(text, path):
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fmt(m, protocol, k=10):
    return f"{protocol} hr@{k} {m[protocol][f'hr@{k}']:.4f} ndcg@{k} {m[protocol][f'ndcg@{k}']:.4f}"


def main(argv=None):
    p = argparse.ArgumentParser(description='SASRec (Kang & McAuley 2018) in PyTorch on an adarec split (see the file header).')
    p.add_argument('--split', required=True, help='file written by node dist/bench/export-split.js')
    p.add_argument('--out', required=True, help='run folder')
    p.add_argument('--resume', action='store_true', help='continue the run in --out from its last whole epoch')
    p.add_argument('--hidden', type=int, default=50)
    p.add_argument('--blocks', type=int, default=2)
    p.add_argument('--heads', type=int, default=1)
    p.add_argument('--dropout', type=float, default=0.2)
    p.add_argument('--maxlen', type=int, default=200)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--epochs', type=int, default=200)
    p.add_argument('--eval-every', type=int, default=1)
    p.add_argument('--patience', type=int, default=20, help='validations without improvement before stopping (0: never)')
    p.add_argument('--metric', default='ndcg@10', help='selection metric, sampled protocol')
    p.add_argument('--eval-batch', type=int, default=256)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--max-batches', type=int, default=0, help='smoke tests: batches per epoch (0: all)')
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    header, arrays = read_split(args.split)
    if header['negativesPerSequence'] == 0:
        sys.exit(f'{args.split} has no fixed negatives: export it with --negatives 100')
    config = {k: getattr(args, k) for k in ('hidden', 'blocks', 'heads', 'dropout', 'maxlen', 'batch', 'lr', 'epochs',
                                            'eval_every', 'patience', 'metric', 'seed', 'max_batches')}
    os.makedirs(args.out, exist_ok=True)
    ckpt_path, best_path = os.path.join(args.out, 'checkpoint.pt'), os.path.join(args.out, 'best.pt')
    log_path, result_path = os.path.join(args.out, 'train.jsonl'), os.path.join(args.out, 'result.json')

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)  # shuffling and negative sampling
    model = SASRec(header['numItems'], args.hidden, args.blocks, args.heads, args.dropout, args.maxlen)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    best_weights = None  # the best epoch's weights (also in checkpoint.pt, so that a resume keeps them)
    state = {'epoch': 0, 'history': [], 'best_epoch': 0, 'best_value': None, 'best_metrics': None, 'bad': 0, 'stopped': False}
    if os.path.exists(ckpt_path):
        if not args.resume:
            sys.exit(f'{args.out} already holds a run: add --resume to continue it, or choose another --out')
        ck = torch.load(ckpt_path)
        same = lambda c: {k: v for k, v in c.items() if k != 'epochs'}  # more epochs may be asked for on resume
        if same(ck['config']) != same(config) or ck['manifestKey'] != header['manifestKey']:
            sys.exit(f'{ckpt_path} was made with another configuration or split: {ck["config"]} on {ck["manifestKey"][:12]}')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['optimizer'])
        torch.set_rng_state(ck['torch_rng'])
        gen.set_state(ck['gen_rng'])
        state, best_weights = ck['state'], ck['best_model']
        print(f'resuming after epoch {state["epoch"]}', flush=True)
    elif args.resume:
        print(f'nothing to resume in {args.out}: starting', flush=True)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s); {header["numItems"]} items, '
          f'{header["numSequences"]} sequences; {sum(p.numel() for p in model.parameters())} parameters', flush=True)

    data = Trainer(header, arrays, args)
    model.train()
    while state['epoch'] < args.epochs and not state['stopped']:
        epoch = state['epoch'] + 1
        t0 = time.perf_counter()
        total, count = 0.0, 0
        for b, (seq, pos, neg) in enumerate(data.batches(gen, args.batch)):
            if args.max_batches and b >= args.max_batches:
                break
            opt.zero_grad(set_to_none=True)
            loss = model.loss(seq, pos, neg)
            loss.backward()
            opt.step()
            total += loss.item() * len(seq)
            count += len(seq)
        record = {'epoch': epoch, 'loss': total / max(1, count), 'seconds': time.perf_counter() - t0}
        improved = False
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            t1 = time.perf_counter()
            metrics = evaluate(model, header, arrays, 'valid', args.maxlen, args.eval_batch)
            record.update(evalSeconds=time.perf_counter() - t1, valid=metrics)
            value = metrics['sampled'][args.metric]
            if math.isfinite(value) and (state['best_value'] is None or value > state['best_value']):
                improved = True
                state.update(best_epoch=epoch, best_value=value, best_metrics=metrics, bad=0)
                best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                state['bad'] += 1
            if args.patience and state['bad'] >= args.patience:
                state['stopped'] = True
        record['bestEpoch'] = state['best_epoch']
        state['epoch'] = epoch
        state['history'].append(record)
        save_atomic({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'torch_rng': torch.get_rng_state(),
                     'gen_rng': gen.get_state(), 'state': state, 'config': config, 'manifestKey': header['manifestKey'],
                     'best_model': best_weights}, ckpt_path)
        if improved:
            save_atomic(best_weights, best_path)
        write_text_atomic(''.join(json.dumps(r) + '\n' for r in state['history']), log_path)
        line = f'epoch {epoch}: loss {record["loss"]:.4f}, {record["seconds"]:.1f} s'
        if 'valid' in record:
            line += f', valid {fmt(record["valid"], "sampled")}, {fmt(record["valid"], "full")}, eval {record["evalSeconds"]:.1f} s'
            line += ' *best*' if improved else f' (best epoch {state["best_epoch"]}, {state["bad"]} without improvement)'
        print(line, flush=True)
        if state['stopped']:
            print(f'early stopping: {args.metric} has not improved for {args.patience} validations', flush=True)

    if best_weights is not None:
        model.load_state_dict(best_weights)
    test = evaluate(model, header, arrays, 'test', args.maxlen, args.eval_batch)
    times = [r['seconds'] for r in state['history']]
    result = {'model': 'SASRec (PyTorch, bench/torch_sasrec.py)', 'split': os.path.abspath(args.split), 'manifestKey': header['manifestKey'],
              'config': config, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
              'epochsRun': state['epoch'], 'stoppedEarly': state['stopped'], 'bestEpoch': state['best_epoch'],
              'valid': state['best_metrics'], 'test': test,
              'epochSeconds': {'median': float(np.median(times)), 'mean': float(np.mean(times))} if times else None}
    write_text_atomic(json.dumps(result, indent=2) + '\n', result_path)
    print(f'test (best epoch {state["best_epoch"]}): {fmt(test, "sampled")}; {fmt(test, "full")}', flush=True)
    return result


if __name__ == '__main__':
    main()
