// A teacher made in PyTorch (test/fixtures/generate_onnx_teacher.py: a tiny NextItNet-like model
// exported by torch.onnx.export with named outputs) imported through its mapping file gives torch's
// outputs on the saved batch. The fixture files are committed; this test needs no torch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor } from '../src/engine/index.js';
import { disposeSignals } from '../src/models/teacher.js';
import { OnnxTeacher } from '../src/onnx/teacher.js';
import { assertNear } from './onnx-helpers.js';

// The compiled test runs from dist/test/; the fixtures stay in test/fixtures/onnx/.
const FIXTURES = new URL('../../test/fixtures/onnx/', import.meta.url);
const file = (name: string): string => fileURLToPath(new URL(name, FIXTURES));

interface Arr { shape: number[]; data: number[] }

describe('PyTorch-made ONNX teacher', () => {
  it('gives the saved torch outputs through the mapping', async () => {
    const expected = JSON.parse(readFileSync(file('torch_nextitnet.expected.json'), 'utf8')) as Record<string, Arr>;
    const teacher = await OnnxTeacher.load(file('torch_nextitnet.onnx'), file('torch_nextitnet.mapping.json'));
    try {
      assert.deepEqual([teacher.kind, teacher.vocabSize, teacher.hidden, teacher.intermediates, teacher.maxLength], ['nextitnet', 31, 8, 2, 10]);
      const ids = tensor(expected.ids.data, expected.ids.shape, 'int32');
      const s = await teacher.signals(ids);
      assertNear(s.embedding.values, expected.emb.data, 'embedding');
      s.intermediates.forEach((t, i) => assertNear(t.values, expected[`block_${i}`].data, `intermediate ${i}`));
      assert.deepEqual(s.logits.shape, expected.all_logits.shape);
      assertNear(s.logits.values, expected.all_logits.data, 'logits');
      disposeSignals(s);
      ids.dispose();
    } finally {
      teacher.dispose();
    }
  });
});
