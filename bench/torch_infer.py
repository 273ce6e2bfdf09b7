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
import time
import torch, torch.nn as nn, torch.nn.functional as F
from torch_reference import NextItNet, serve_commands, start_torch
from torch_supernet import Cell, build_op


class StudentCell(Cell):
    """A derived cell: one operator per edge (none computes zeros, as the reference's Zero)."""
    def __init__(self, C, nodes, specs):
        super().__init__(C, nodes, [build_op(s, C) for s in specs])

    def forward(self, x):
        return self.run(x, lambda e, state: self.edges[e](F.relu(state).transpose(1, 2)).transpose(1, 2))


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

    def model(msg):
        reply = start_torch(msg)
        if msg['kind'] == 'nextitnet':
            m = NextItNet(msg['vocab'], msg['hidden'], msg['dilations'], msg['kernel'], msg['residual'])
        else:
            m = Student(msg['vocab'], msg['length'], msg['hidden'], msg['nodes'], msg['cells'])
        models[msg['name']] = m.eval()
        return reply

    def set_inputs(msg):
        inputs[msg['key']] = torch.tensor(msg['rows'], dtype=torch.long).view(-1, msg['length'])
        return {'ok': True}

    def score(msg):
        m, rows, B = models[msg['model']], inputs[msg['key']], msg['batch']
        run = (lambda ids: m(ids)[:, -1]) if msg['mode'] == 'all' else m.score_last
        times = []
        with torch.inference_mode():
            for i in range(msg['n']):
                start = (i * B) % rows.shape[0]
                ids = rows[start:start + B]
                t = time.perf_counter()
                run(ids)
                times.append((time.perf_counter() - t) * 1e3)
        return {'ms': times}

    serve_commands({'model': model, 'inputs': set_inputs, 'score': score})


if __name__ == '__main__':
    main()
