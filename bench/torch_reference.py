"""PyTorch reference for adarec's benchmarks: the same NextItNet as src/models/nextitnet.ts, driven
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


def make_batch(B, T, V, g):
    seq = torch.zeros(B, T + 1, dtype=torch.long)
    for b in range(B):
        n = int(torch.randint(5, T + 2, (1,), generator=g))
        seq[b, T + 1 - n:] = torch.randint(1, V, (n,), generator=g)
    return seq[:, :-1].contiguous(), seq[:, 1:].contiguous()


def train_on(state, inp, tgt):
    """One timed training step (forward, cross-entropy ignoring pad 0, backward, Adam)."""
    model, opt = state['model'], state['opt']
    model.train()
    t = time.perf_counter()
    opt.zero_grad(set_to_none=True)
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
        model = NextItNet(V, msg['hidden'], msg['dilations'], msg['kernel'], msg['residual'])
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
