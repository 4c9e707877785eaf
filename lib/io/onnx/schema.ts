/**
 * The part of the ONNX protobuf schema (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, IR version 10)
 * that a model file of plain tensor ops needs, loaded with protobufjs. Field names and numbers are the
 * official ones; messages this code never reads or writes (sparse tensors, training info, functions,
 * quantization annotations) are left out, and protobufjs skips their fields when it decodes a file that has them.
 *
 * NOTE: the schema is kept as proto text inside a TypeScript module, not as a `.proto` file, so that `tsc`
 * compiles it into `dist/` and the published package carries it with no copy step. The `onnx-proto` npm
 * package was not used: its last release (8.0.1, December 2024) pins protobufjs 6, two majors behind ours.
 *
 * @example
 * const model = decodeModel(fs.readFileSync('lenet.onnx'));
 * model.graph?.node?.map((n) => n.op_type);   // ['Conv', 'Relu', 'MaxPool', ...]
 */
import * as protobuf from 'protobufjs';

const ONNX_PROTO = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11; TYPE_PROTO = 13;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  optional TypeProto tp = 14;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  repeated TypeProto type_protos = 15;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
  repeated StringStringEntryProto metadata_props = 4;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  optional string overload = 8;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  repeated StringStringEntryProto metadata_props = 9;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
  repeated StringStringEntryProto metadata_props = 16;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7; STRING = 8;
    BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13; COMPLEX64 = 14; COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  message Segment {
    optional int64 begin = 1;
    optional int64 end = 2;
  }
  optional Segment segment = 3;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation {
    DEFAULT = 0;
    EXTERNAL = 1;
  }
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  repeated StringStringEntryProto metadata_props = 16;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  message Sequence {
    optional TypeProto elem_type = 1;
  }
  message Map {
    optional int32 key_type = 1;
    optional TypeProto value_type = 2;
  }
  message Optional {
    optional TypeProto elem_type = 1;
  }
  message SparseTensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    Optional optional_type = 9;
    SparseTensor sparse_tensor_type = 8;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** `TensorProto.DataType` codes used here. */
export const DataType = { FLOAT: 1, INT64: 7, DOUBLE: 11 } as const;
/** `AttributeProto.AttributeType` codes used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

// Plain-object views of the messages (what `toObject` gives with longs as numbers), only the fields used here.
export interface TensorProtoObject {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  raw_data?: Uint8Array;
  name?: string;
  data_location?: number;
}
export interface AttributeProtoObject {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProtoObject;
  floats?: number[];
  ints?: number[];
}
export interface NodeProtoObject {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProtoObject[];
}
export interface DimensionObject {
  dim_value?: number;
  dim_param?: string;
}
export interface ValueInfoProtoObject {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimensionObject[] } } };
}
export interface GraphProtoObject {
  node?: NodeProtoObject[];
  name?: string;
  initializer?: TensorProtoObject[];
  input?: ValueInfoProtoObject[];
  output?: ValueInfoProtoObject[];
  doc_string?: string;
}
export interface ModelProtoObject {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph?: GraphProtoObject;
  metadata_props?: { key?: string; value?: string }[];
}

let cached: { ModelProto: protobuf.Type } | null = null;

// The protobufjs types of the schema (parsed once, on first use). Not exported: the published .d.ts files
// then never import protobufjs's types, so a TypeScript user does not compile them.
function onnxSchema(): { ModelProto: protobuf.Type } {
  if (cached === null) {
    // keepCase: the official snake_case field names, as the ONNX documentation and other tools spell them.
    const { root } = protobuf.parse(ONNX_PROTO, { keepCase: true });
    cached = { ModelProto: root.lookupType('onnx.ModelProto') };
  }
  return cached;
}

/** Encodes a ModelProto (checked against the schema first: a wrong field type is an error, not a bad file). */
export function encodeModel(model: ModelProtoObject): Uint8Array {
  const { ModelProto } = onnxSchema();
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`onnx: internal error, the model does not fit the ONNX schema: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/**
 * Decodes ModelProto bytes into plain objects (int64 fields as numbers, bytes as Uint8Array). `source` names
 * the input in the error for bytes that are not a protobuf message.
 */
export function decodeModel(bytes: Uint8Array, source = 'buffer'): ModelProtoObject {
  const { ModelProto } = onnxSchema();
  let message: protobuf.Message;
  try {
    message = ModelProto.decode(bytes);
  } catch (e) {
    throw new RangeError(`onnx: ${source} is not an ONNX model (${(e as Error).message})`);
  }
  return ModelProto.toObject(message, { longs: Number, arrays: false, defaults: false }) as ModelProtoObject;
}
