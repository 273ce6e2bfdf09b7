// The data layer's shapes, from a parsed log to a prepared, split data set. Everything is
// columnar typed arrays so that 10 million interactions fit in a few hundred MB.

/**
 * A parsed interaction log, one row per interaction, before any preprocessing. User, item and
 * session ids are interned: `user[r]` indexes `userKeys` (the original id as written in the file).
 */
export interface InteractionLog {
  /** Where the rows came from (a file path, or a description such as 'synthetic'). */
  source: string;
  user: Int32Array;
  item: Int32Array;
  /** Seconds (or any monotone unit) as in the file; for a log without times, each row's position (see `order`). */
  time: Float64Array;
  /**
   * Where the order of a sequence's rows comes from: 'time', the file's time column (rows of equal
   * time keep their file order), or 'file': the log has no times, `time` is each row's position in
   * the file, and no two rows tie. Absent: 'time'.
   */
  order?: 'time' | 'file';
  /** Explicit rating or event weight, when the format has one. */
  rating: Float32Array | null;
  /** Session index (into sessionKeys) for session logs; null when a sequence is a user's history. */
  session: Int32Array | null;
  /** 1-based source line of each row, so that later checks can name it. */
  line: Int32Array;
  userKeys: string[];
  itemKeys: string[];
  sessionKeys: string[] | null;
  /** Rows skipped under leniency, by reason (reported to the user; empty when strict). */
  skipped: Record<string, number>;
}

/**
 * Chronological item sequences after preprocessing. Items are renumbered 1..numItems (0 is
 * padding); `itemKeys[i - 1]` is item i's original id, `sequenceKeys[s]` the user (or session) id.
 */
export interface SequenceDataset {
  numItems: number;
  /** Concatenated sequences; sequence s is items[offsets[s] .. offsets[s + 1]). */
  items: Int32Array;
  times: Float64Array;
  offsets: Int32Array;
  itemKeys: string[];
  sequenceKeys: string[];
}

/** Evaluation examples: for each, the input prefix (item ids) and the target item. */
export interface EvalExamples {
  /** The sequence (user) each example belongs to. */
  sequence: Int32Array;
  /** Concatenated inputs; example e's input is inputs[offsets[e] .. offsets[e + 1]). */
  inputs: Int32Array;
  offsets: Int32Array;
  targets: Int32Array;
}

export interface DataSplit {
  /** Training sequences (trained autoregressively), same layout as SequenceDataset. */
  train: {
    items: Int32Array;
    /** Each training item's timestamp (items of equal time may be shuffled in training: shuffleTies). */
    times: Float64Array;
    offsets: Int32Array;
  };
  valid: EvalExamples;
  test: EvalExamples;
}

/** Fixed evaluation candidates: `count` negatives per sequence, none of them in that sequence. */
export interface Negatives {
  count: number;
  /** [numSequences * count] item ids. */
  items: Int32Array;
}
