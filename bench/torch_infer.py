"""PyTorch side of bench/infer.ts: last-position scoring of the NextItNet teacher (bench/torch_reference.py)
and of an AdaRec student (one operator per edge, the operators of bench/torch_supernet.py), in
inference mode, timed per call.

Protocol: one JSON command per line in, one JSON answer per line out.
  {"cmd": "model", "name": "teacher", "kind": "nextitnet", "vocab": 1205, "hidden": 256, "dilations": [1,4,...],
   "kernel": 3, "residual": "learned", "threads": 1}                                -> {"ok": true, "torch": ..., "threads": 1}
  {"cmd": "model", "name": "student", "kind": "adarec", "vocab": 1205, "length": 50, "hidden": 64, "nodes": 3,
   "cells": [[{"kind": "none"}, ..., {"kind": "conv", "k": 3, "d": 1}, ...], ...], "threads": 1}  -> {"ok": true, ...}
  {"cmd": "inputs", "key": "b1", "length": 50, "rows": [...]}   item ids, rows x length, left-padded -> {"ok": true}
  {"cmd": "score", "model": "teacher", "key": "b1", "batch": 1, "mode": "all" | "last", "n": 50} -> {"ms": [...]}
    call i scores rows i*batch .. (i+1)*batch (cycling); "all": logits at every position, then the
    last row (what the reference code computes); "last": the output layer on the last position only.
Run with /usr/bin/python3 (Debian: apt-get install python3-torch).
"""
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
from torch_reference import NextItNet
from torch_supernet import build_op


class StudentCell(nn.Module):
    """A derived cell: one operator per edge (none computes zeros, as the reference's Zero)."""
    def __init__(self, C, nodes, specs):
        super().__init__()
        self.nodes = nodes
        self.edges = nn.ModuleList([build_op(s, C) for s in specs])
        self.node_weights = nn.Parameter(0.01 * torch.randn(nodes))
        self.ln = nn.LayerNorm(C, eps=1e-8)

    def forward(self, x):
        states, e = [x], 0
        for to in range(1, self.nodes + 1):
            node = 0
            for j in range(to):
                node = node + self.edges[e](F.relu(states[j]).transpose(1, 2)).transpose(1, 2)
                e += 1
            states.append(node)
        attn = F.softmax(self.node_weights, dim=0)
        s = sum(attn[i] * states[i + 1] for i in range(self.nodes))
        return F.relu(self.ln(s)) + x


class Student(nn.Module):
    def __init__(self, V, T, C, nodes, cells, dropout=0.1):
        super().__init__()
        self.item = nn.Embedding(V, C)
        self.pos = nn.Embedding(T, C)
        self.drop = nn.Dropout(dropout)
        self.cells = nn.ModuleList([StudentCell(C, nodes, specs) for specs in cells])
        self.out = nn.Linear(C, V)

    def hidden(self, ids):
        B, T = ids.shape
        x = self.drop(self.item(ids) + self.pos(torch.arange(T).unsqueeze(0).expand(B, T)))
        for c in self.cells:
            x = c(x)
        return x

    def forward(self, ids):
        return self.out(self.hidden(ids))

    def score_last(self, ids):
        return self.out(self.hidden(ids)[:, -1])


def main():
    models, inputs = {}, {}
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg['cmd']
        if cmd == 'model':
            torch.set_num_threads(msg.get('threads', 1))
            torch.manual_seed(0)
            if msg['kind'] == 'nextitnet':
                m = NextItNet(msg['vocab'], msg['hidden'], msg['dilations'], msg['kernel'], msg['residual'])
            else:
                m = Student(msg['vocab'], msg['length'], msg['hidden'], msg['nodes'], msg['cells'])
            models[msg['name']] = m.eval()
            reply = {'ok': True, 'torch': torch.__version__, 'threads': torch.get_num_threads()}
        elif cmd == 'inputs':
            inputs[msg['key']] = torch.tensor(msg['rows'], dtype=torch.long).view(-1, msg['length'])
            reply = {'ok': True}
        elif cmd == 'score':
            model, rows, B = models[msg['model']], inputs[msg['key']], msg['batch']
            score = (lambda ids: model(ids)[:, -1]) if msg['mode'] == 'all' else model.score_last
            times = []
            with torch.inference_mode():
                for i in range(msg['n']):
                    start = (i * B) % rows.shape[0]
                    ids = rows[start:start + B]
                    t = time.perf_counter()
                    score(ids)
                    times.append((time.perf_counter() - t) * 1e3)
            reply = {'ms': times}
        else:
            reply = {'error': f'unknown command {cmd}'}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main()
