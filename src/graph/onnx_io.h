// ONNX model import/export: ModelProto bytes/files <-> Model (graph/ir.h).
// Protobuf stays inside src/graph/*.cc; this header exposes only greenai types.
//
// Import contract (LoadModel / LoadModelFromBytes):
//  - Fills ir_version, opset imports, producer/domain/model_version/doc, metadata, and the graph:
//    inputs/outputs (TensorType with dims and dim_params; a type without shape -> has_shape=false),
//    value_info -> Graph::value_types, initializers of every greenai dtype (raw_data or typed
//    fields, external data resolved relative to `base_dir` / the model's folder and never outside
//    it), sparse_initializer (densified into initializers), nodes with domain, doc_string and
//    attributes of every kind (tensors, sparse tensors densified, subgraphs recursively).
//    Constant nodes stay nodes. Nodes are topologically sorted (subgraphs with outer scope).
//  - Values that are not tensors (sequence, optional, map types) import as dtype kUndefined
//    with has_shape=false: the IR does not model them (lossy on export).
//  - Model-local functions (ModelProto.functions) and training_info are not imported.
//  - Hostile input (truncated/corrupt protobuf, unknown dtype, negative dims, > 2^34 elements,
//    data size not matching dims, a value produced twice, a cycle, a node reading an undefined
//    value, an external-data location escaping the folder) is a one-line error naming the
//    tensor/node and the rule; never a crash or a huge allocation.
//
// Export contract (SaveModel / SerializeModel):
//  - Writes everything the IR holds; initializers as raw_data (strings as string_data), in
//    initializer_order, value_info sorted by name. load -> save -> load gives an equal IR with
//    byte-identical initializers.
//  - SaveModel is atomic (core/file_util.h): on failure the old file is untouched.
//  - Models over protobuf's 2 GiB limit are refused (external-data export not implemented).
//
// Thread safety: pure functions; a Model must not be mutated while it is being saved.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai {

Result<std::unique_ptr<Model>> LoadModel(const std::string& path);
Result<std::unique_ptr<Model>> LoadModelFromBytes(std::string_view bytes, const std::string& base_dir = ".");

Status SaveModel(const Model& model, const std::string& path);
Result<std::string> SerializeModel(const Model& model);

}  // namespace greenai
