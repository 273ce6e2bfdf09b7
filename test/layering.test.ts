// The layering of docs/DESIGN.md, enforced: every import in src/ (static, dynamic, re-export, type
// only) goes from a folder to a folder of a lower layer or stays inside its folder, and no file
// imports itself back through a circle. A new import that breaks the picture fails here, naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** The layers, lowest first: a folder may import only folders of a lower layer (docs/DESIGN.md). */
const LAYERS: readonly (readonly string[])[] = [
  ['util', 'engine'],
  ['data'],
  ['models'],
  ['eval', 'distill', 'onnx', 'report'],
  ['train'],
  ['search', 'serve'],
  ['pipeline'],
  ['cli'],
  ['index.ts'],
];
const layerOf = new Map(LAYERS.flatMap((folders, rank) => folders.map((f) => [f, rank] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Every relative module a file imports, as a path under src/ ending in .ts. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.'))
    .map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

const top = (path: string): string => path.split('/')[0];
const graph = new Map(sourceFiles(SRC).map((f) => [relative(SRC, f), importsOf(f)]));

test('layering: the source tree is what the test reads', () => {
  assert.ok(graph.size > 100, `found ${graph.size} files under ${SRC}`);
  for (const path of graph.keys()) assert.ok(layerOf.has(top(path)), `${path}: folder '${top(path)}' is in no layer of LAYERS (add it, and to docs/DESIGN.md)`);
  for (const [path, targets] of graph) for (const t of targets) assert.ok(graph.has(t), `${path} imports ${t}, which does not exist`);
});

/** Imports from a folder to one of the same or a higher layer. */
function layerViolations(g: ReadonlyMap<string, readonly string[]>): string[] {
  const bad: string[] = [];
  for (const [path, targets] of g) {
    const from = top(path);
    for (const t of targets) {
      const to = top(t);
      if (to !== from && layerOf.get(to)! >= layerOf.get(from)!) bad.push(`${path} -> ${t} (${from} is layer ${layerOf.get(from)}, ${to} layer ${layerOf.get(to)})`);
    }
  }
  return bad;
}

/** Import circles, each as the path around it (depth-first search: a back edge closes one). */
function circles(g: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const stack: string[] = [];
  const visit = (v: string): void => {
    state.set(v, 'open');
    stack.push(v);
    for (const w of g.get(v) ?? []) {
      if (state.get(w) === 'open') found.push([...stack.slice(stack.indexOf(w)), w].join(' -> '));
      else if (!state.has(w)) visit(w);
    }
    stack.pop();
    state.set(v, 'done');
  };
  for (const v of g.keys()) if (!state.has(v)) visit(v);
  return found;
}

test('layering: no folder imports from a folder of its own or a higher layer', () => {
  const bad = layerViolations(graph);
  assert.deepEqual(bad, [], `imports against the layering:\n${bad.join('\n')}`);
});

test('layering: no import circles between files', () => {
  const found = circles(graph);
  assert.deepEqual(found, [], `import circles:\n${found.join('\n')}`);
});

test('layering: the checks see a violation and a circle when there is one', () => {
  // the same helpers on a made-up graph, so that the tests above cannot pass by seeing nothing
  const made = new Map([['train/a.ts', ['search/b.ts', 'models/m.ts']], ['search/b.ts', ['search/c.ts']], ['search/c.ts', ['train/a.ts']], ['models/m.ts', []]]);
  assert.deepEqual(layerViolations(made), ['train/a.ts -> search/b.ts (train is layer 4, search layer 5)']);
  assert.deepEqual(circles(made), ['train/a.ts -> search/b.ts -> search/c.ts -> train/a.ts']);
  const parsed = ts.preProcessFile("import type { A } from '../x/a.js';\nexport * from './b.js';\nconst m = await import('../y/c.js');", true, true);
  assert.deepEqual(parsed.importedFiles.map((f) => f.fileName), ['../x/a.js', './b.js', '../y/c.js']);
});
