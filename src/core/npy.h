// NumPy .npy files (format versions 1.0, 2.0 and 3.0) <-> Tensor. No Python, no protobuf.
//
// Contract:
//  - LoadNpy accepts little-endian ('<', '=' on this little-endian host) or byte-order-free ('|')
//    dtypes f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1, C order only. fortran_order True, big-endian
//    data, other dtypes, a malformed header, or a data section whose size differs from
//    shape x itemsize are errors naming the file and the rule. Never allocates more than the
//    file's own data size (the element count is checked against the bytes present first).
//  - SaveNpy writes version 1.0 (2.0 when the header needs it) atomically (core/file_util.h).
//    bfloat16 and string tensors have no .npy dtype: Unimplemented.
//  - NpyFromBytes / NpyToBytes are the in-memory forms (`what` names the source in messages).
//  - Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai {

Result<Tensor> LoadNpy(const std::string& path);
Status SaveNpy(const Tensor& t, const std::string& path);

Result<Tensor> NpyFromBytes(std::string_view bytes, const std::string& what = "npy");
Result<std::string> NpyToBytes(const Tensor& t);

}  // namespace greenai
