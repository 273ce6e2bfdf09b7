// An ONNX graph under construction: named initializers from our tensors, nodes with typed
// attributes, the graph's inputs and outputs, and the ModelProto bytes (onnx-proto's static
// protobufjs code). Emitters (emit/*.ts) add one layer each; model exporters (models/*.ts) wire
// them. Every value name is unique: a node's output is '<scope>/<OpType>_<n>'.
import onnxProto from 'onnx-proto';
import type { Tensor } from '../engine/index.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** Opsets this exporter writes (LayerNormalization needs 17). */
export const MIN_OPSET = 17;
export const MAX_OPSET = 21;

export type ElemType = 'float' | 'int64' | 'int32';
const ELEM: Record<ElemType, number> = { float: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64, int32: onnx.TensorProto.DataType.INT32 };

/** An attribute value, tagged with its ONNX type. */
export type Attr = { int: number } | { float: number } | { ints: readonly number[] };
export const int = (v: number): Attr => ({ int: v });
export const float = (v: number): Attr => ({ float: v });
export const ints = (v: readonly number[]): Attr => ({ ints: v });
/** An element type as an attribute (Cast's `to`). */
export const elemType = (e: ElemType): Attr => ({ int: ELEM[e] });

/** A dimension: a fixed size or a symbolic name (e.g. 'batch'). */
export type Dim = number | string;

function attribute(name: string, a: Attr): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  return { name, type: T.INTS, ints: [...a.ints] };
}

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[elem], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** The IR version that goes with an opset (ONNX 1.12-1.13: 8, 1.14-1.15: 9, 1.16: 10). */
function irVersion(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  /** Initializers already made from an engine tensor (a layer emitted twice shares its weights). */
  private readonly fromTensor = new Map<Tensor, string>();
  private counter = 0;

  private unique(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX export: the value name '${name}' is used twice`);
    this.used.add(name);
    return name;
  }

  /** A float initializer holding `values` (copied to float32) with the given dims (raw data: little-endian, as x86/ARM hosts). */
  weight(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`ONNX export: initializer '${name}' has ${values.length} values for dims [${dims.join(', ')}]`);
    const data = Float32Array.from(values);
    this.initializers.push({ name: this.unique(name), dataType: ELEM.float, dims: [...dims], rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** A float initializer from an engine tensor (its shape unless `dims` is given), made once per tensor. */
  tensor(name: string, t: Tensor, dims: readonly number[] = t.shape): string {
    const have = this.fromTensor.get(t);
    if (have !== undefined) return have;
    this.fromTensor.set(t, this.weight(name, t.values, dims));
    return name;
  }

  /** An int64 initializer (shapes, axes, indices). */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name: this.unique(name), dataType: ELEM.int64, dims: [...dims], rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Adds a node with one output, named '<scope>/<opType>_<n>'; returns the output name. */
  op(scope: string, opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    const output = this.unique(`${scope}/${opType}_${this.counter++}`);
    this.nodes.push({
      opType, name: output, input: [...inputs], output: [output],
      attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
    });
    return output;
  }

  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.unique(name), elem, dims));
    return name;
  }

  /** Declares graph output `name` as the value `source` (through an Identity node). */
  output(name: string, source: string, elem: ElemType, dims: readonly Dim[]): void {
    this.nodes.push({ opType: 'Identity', name: `${name}/Identity`, input: [source], output: [this.unique(name)] });
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** The serialized ModelProto. */
  encode(o: { opset: number; graphName: string; docString: string }): Uint8Array {
    if (!Number.isInteger(o.opset) || o.opset < MIN_OPSET || o.opset > MAX_OPSET)
      throw new Error(`ONNX export: opset ${o.opset} is not supported (${MIN_OPSET}..${MAX_OPSET})`);
    const model: onnxProto.onnx.IModelProto = {
      irVersion: irVersion(o.opset),
      opsetImport: [{ domain: '', version: o.opset }],
      producerName: 'adarec',
      docString: o.docString,
      graph: { name: o.graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}
