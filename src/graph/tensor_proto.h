// ONNX TensorProto files (.pb, as in the ONNX backend test suite) <-> Tensor.
// Protobuf stays inside src/graph/*.cc; this header exposes only greenai types.
//
// Contract:
//  - LoadTensorProtoFile reads one serialized TensorProto. Every greenai dtype is accepted
//    from raw_data or from its typed field (float_data, int32_data - which also carries
//    int8/uint8/int16/uint16/bool/float16/bfloat16 -, int64_data, double_data, uint64_data,
//    string_data). Hostile input (unknown dtype, negative dims, > 2^34 elements, data size not
//    matching dims, truncated bytes) is an error naming the tensor and the rule, never a
//    crash or a huge allocation. A file holding a SequenceProto or OptionalProto (the suite has
//    some) returns Unimplemented. `name`, if given, receives TensorProto.name.
//  - External data in a standalone .pb is resolved relative to the file's folder.
//  - SaveTensorProtoFile writes raw_data (string_data for strings) atomically.
//  - Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai {

Result<Tensor> LoadTensorProtoFile(const std::string& path, std::string* name = nullptr);
Status SaveTensorProtoFile(const Tensor& t, const std::string& name, const std::string& path);

// In-memory forms. `what` names the source in error messages; `base_dir` resolves external data.
Result<Tensor> TensorFromProtoBytes(std::string_view bytes, std::string* name = nullptr,
                                    const std::string& what = "tensor", const std::string& base_dir = ".");
Result<std::string> TensorToProtoBytes(const Tensor& t, const std::string& name);

}  // namespace greenai
