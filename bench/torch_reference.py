"""PyTorch reference for adarec's benchmarks: the same NextItNet as src/models/nextitnet.ts (and the
same SASRec / BERT4Rec as src/models/transformer-recommender.ts: "model": "sasrec" | "bert4rec" with
"heads", "blocks", "ffnMultiplier", "dropout" in init), driven
over stdin/stdout by bench/*.ts so that both engines run interleaved in one script.

Protocol: one JSON command per line in, one JSON answer per line out.
  {"cmd": "init", "vocab": 3001, "hidden": 256, "dilations": [1,4,...], "kernel": 3, "residual": "plain",
   "batch": 128, "length": 50, "threads": 1}
  {"cmd": "train_step"}   -> {"ms": ..., "loss": ...}   (on the batch made at init)
  {"cmd": "train_batch", "inputs": [...], "targets": [...], "batch": B} -> {"ms": ..., "loss": ...}
  {"cmd": "stats"}        -> {"maxrss_mb": ...}
Run with /usr/bin/python3 (Debian: apt-get install python3-torch).
"""
import json, resource, sys, time
import torch, torch.nn as nn, torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, k, d, residual):
        super().__init__()
        self.k, self.d = k, d
        self.c1 = nn.Conv1d(C, C, k, dilation=d)
        self.c2 = nn.Conv1d(C, C, k, dilation=2 * d)
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.eps = nn.Parameter(torch.zeros(1)) if residual == 'learned' else None

    def conv(self, x, m, d):  # x [B, T, C], causal: left-pad (k-1)*d
        return m(F.pad(x.transpose(1, 2), ((self.k - 1) * d, 0))).transpose(1, 2)

    def forward(self, x):
        h = F.relu(self.ln1(self.conv(x, self.c1, self.d)))
        h = F.relu(self.ln2(self.conv(h, self.c2, 2 * self.d)))
        return x + (h * self.eps if self.eps is not None else h)


class NextItNet(nn.Module):
    def __init__(self, V, C, dilations, k, residual):
        super().__init__()
        self.emb = nn.Embedding(V, C)
        self.blocks = nn.ModuleList([Block(C, k, d, residual) for d in dilations])
        self.out = nn.Linear(C, V)

    def hidden(self, ids):
        x = self.emb(ids)
        for b in self.blocks:
            x = b(x)
        return x

    def forward(self, ids):
        return self.out(self.hidden(ids))

    def score_last(self, ids):
        return self.out(self.hidden(ids)[:, -1])


class TransformerBlock(nn.Module):
    """src/models/transformer-block.ts: x + a * Dropout(Attention(LN(x))), then x + b * Dropout(FFN(LN(x)))."""
    def __init__(self, C, heads, ffn, dropout, causal, residual):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.q, self.k, self.v, self.o = (nn.Linear(C, C) for _ in range(4))
        self.ffn_in, self.ffn_out = nn.Linear(C, C * ffn), nn.Linear(C * ffn, C)
        self.drop = nn.Dropout(dropout)
        learned = residual == 'learned'
        self.sa = nn.Parameter(torch.zeros(1)) if learned else None
        self.sf = nn.Parameter(torch.zeros(1)) if learned else None

    def attention(self, x, keep):  # keep [B, 1, T, T] bool: which keys a query sees
        B, T, C = x.shape
        H, Dh = self.heads, C // self.heads
        q, k, v = (m(x).view(B, T, H, Dh).transpose(1, 2) for m in (self.q, self.k, self.v))
        s = (q @ k.transpose(-1, -2)) / Dh ** 0.5
        p = torch.softmax(s.masked_fill(~keep, float('-inf')), -1).nan_to_num(0.0)  # no visible key: zeros
        return self.o((p @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x, keep):
        a = self.drop(self.attention(self.ln1(x), keep))
        x = x + (a * self.sa if self.sa is not None else a)
        h = self.drop(self.ffn_out(F.relu(self.ffn_in(self.ln2(x)))))
        return x + (h * self.sf if self.sf is not None else h)


class TransformerRecommender(nn.Module):
    """src/models/transformer-recommender.ts: SASRec (causal) or BERT4Rec (bidirectional, [MASK] = id V)."""
    def __init__(self, V, T, C, heads, blocks, ffn, dropout, causal, residual, extra):
        super().__init__()
        self.causal = causal
        self.emb, self.pos = nn.Embedding(V + extra, C), nn.Embedding(T, C)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([TransformerBlock(C, heads, ffn, dropout, causal, residual) for _ in range(blocks)])
        self.ln = nn.LayerNorm(C)
        self.out = nn.Linear(C, V)

    def hidden(self, ids):
        B, T = ids.shape
        keep = (ids != 0)[:, None, None, :]
        if self.causal:
            keep = keep & torch.ones(T, T, dtype=torch.bool).tril()[None, None]
        x = self.drop(self.emb(ids) + self.pos(torch.arange(T))[None])
        for b in self.blocks:
            x = b(x, keep)
        return self.ln(x)

    def forward(self, ids):
        return self.out(self.hidden(ids))


def make_batch(B, T, V, g):
    seq = torch.zeros(B, T + 1, dtype=torch.long)
    for b in range(B):
        n = int(torch.randint(5, T + 2, (1,), generator=g))
        seq[b, T + 1 - n:] = torch.randint(1, V, (n,), generator=g)
    return seq[:, :-1].contiguous(), seq[:, 1:].contiguous()


def train_on(state, inp, tgt):
    """One timed training step (forward, cross-entropy ignoring pad 0, backward, Adam). Transformers
    run the output layer at target positions only, as a careful PyTorch implementation (and ours) does."""
    model, opt = state['model'], state['opt']
    model.train()
    t = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    if isinstance(model, TransformerRecommender):
        h, flat = model.hidden(inp), tgt.reshape(-1)
        rows = flat.nonzero().squeeze(1)
        loss = F.cross_entropy(model.out(h.reshape(-1, h.shape[-1])[rows]), flat[rows])
    else:
        loss = F.cross_entropy(model(inp).reshape(-1, state['V']), tgt.reshape(-1), ignore_index=0)
    loss.backward()
    opt.step()
    return {'ms': (time.perf_counter() - t) * 1e3, 'loss': loss.item()}


def start_torch(msg):
    """Threads and seed of an init command; the answer's version fields."""
    torch.set_num_threads(msg.get('threads', 1))
    torch.manual_seed(0)
    return {'ok': True, 'torch': torch.__version__, 'threads': torch.get_num_threads()}


def memory_stats(_msg):
    return {'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def serve_commands(handlers):
    """The stdin/stdout protocol of every bench script: one JSON command per line, its handler's
    answer as one JSON line; an unknown command or a failing handler answers {"error": ...}
    instead of killing the process, so the driver reports it."""
    for line in sys.stdin:
        msg = json.loads(line)
        handler = handlers.get(msg['cmd'])
        try:
            reply = handler(msg) if handler else {'error': f"unknown command {msg['cmd']}"}
        except Exception as e:
            reply = {'error': f'{type(e).__name__}: {e}'}
        print(json.dumps(reply), flush=True)


def main():
    state = {}

    def init(msg):
        reply = start_torch(msg)
        g = torch.Generator().manual_seed(7)
        V, B, T = msg['vocab'], msg['batch'], msg['length']
        kind = msg.get('model', 'nextitnet')
        if kind == 'nextitnet':
            model = NextItNet(V, msg['hidden'], msg['dilations'], msg['kernel'], msg['residual'])
        else:
            model = TransformerRecommender(V, T, msg['hidden'], msg['heads'], msg['blocks'], msg['ffnMultiplier'], msg['dropout'],
                                           kind == 'sasrec', msg['residual'], 1 if kind == 'bert4rec' else 0)
        state.update(model=model, V=V, opt=torch.optim.Adam(model.parameters(), lr=1e-3), batch=make_batch(B, T, V, g))
        return reply

    def train_batch(msg):
        B = msg['batch']
        return train_on(state, torch.tensor(msg['inputs'], dtype=torch.long).view(B, -1),
                        torch.tensor(msg['targets'], dtype=torch.long).view(B, -1))

    serve_commands({'init': init, 'train_step': lambda _msg: train_on(state, *state['batch']),
                    'train_batch': train_batch, 'stats': memory_stats})


if __name__ == '__main__':
    main()
