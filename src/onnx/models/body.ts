// What a model exporter emits for the ids: the values behind the distillation signals and the
// final hidden states the output layer reads (export.ts adds the output layer and the outputs).
import type { nn } from '../../engine/index.js';

export interface Body {
  /** The embedding layer's output [B, T, C]. */
  embedding: string;
  /** The intermediates the model's signals() hands over, in order. */
  intermediates: string[];
  /** The hidden states [B, T, C] the output layer reads (after a final norm, if any). */
  hidden: string;
  output: nn.Linear;
}
