// Private to the tensor-manipulation op family (ops/tensor*.cc) and its CPU reference
// kernels (backends/cpu/ref_tensor*.cc).
//
// Why one header for both: the output shape of most of these ops depends on attributes
// and on input *values* (Reshape's shape, Slice's starts, Pad's pads ...). Inference and
// kernels must agree exactly, so both call the same Resolve* functions below.
//
// Contract: Resolve* functions are pure; they accept dims of -1 (unknown) where noted and
// return InvalidArgument naming the node, the bad value and the rule. Element movers copy
// std::string elements by assignment and everything else by bytes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "graph/ir.h"
#include "ops/op_table.h"

namespace greenai { struct KernelDef; }

namespace greenai::tensorops {

// ---- registration seams (one per ops/tensor_*.cc file) ----
void AddShapeOps(std::vector<OpDef>& ops);   // tensor_shape.cc
void AddIndexOps(std::vector<OpDef>& ops);   // tensor_index.cc
void AddLayoutOps(std::vector<OpDef>& ops);  // tensor_layout.cc

// ---- cost functions ----
// Reads every input, writes every output, no arithmetic.
OpCost MoveCost(const InferContext& ctx, const std::vector<TensorType>& outputs);
// Reads only what it writes from input 0 (plus every other input): Slice, Gather, ...
OpCost SubsetCost(const InferContext& ctx, const std::vector<TensorType>& outputs);
// Reads no data (only metadata): Shape, Size, ConstantOfShape, Range, EyeLike, Constant.
OpCost WriteOnlyCost(const InferContext& ctx, const std::vector<TensorType>& outputs);

// ---- small helpers ----
inline TensorType UnknownShape(DType t) {
  TensorType tt;
  tt.dtype = t;
  return tt;
}
inline TensorType UnknownDims(DType t, int64_t rank) {
  return TensorType::Of(t, Shape(static_cast<size_t>(std::max<int64_t>(rank, 0)), -1));
}
// Ints from input i's value (nullopt when absent or unknown).
std::optional<std::vector<int64_t>> ValueInts(const InferContext& ctx, size_t i);
// Ints from input i when present, else from attribute `attr` (nullopt when neither).
std::optional<std::vector<int64_t>> IntsFromAttrOrInput(const Node& n, const std::string& attr,
                                                        const Tensor* input);

// ---- Resolve* (shared by inference and kernels) ----
Result<Tensor> BuildConstant(const Node& n);
// in may contain -1 (unknown).
Result<Shape> ResolveReshape(const Node& n, const Shape& in, const std::vector<int64_t>& target, bool allowzero);
Result<std::vector<int64_t>> ResolvePerm(const Node& n, int64_t rank);
// axes: nullopt = squeeze every dim of size 1 (needs known dims).
Result<Shape> ResolveSqueeze(const Node& n, const Shape& in, const std::optional<std::vector<int64_t>>& axes);
Result<Shape> ResolveUnsqueeze(const Node& n, const Shape& in, const std::vector<int64_t>& axes);

struct SliceSpec {
  std::vector<int64_t> start, step, count;  // per input axis; count -1 when unknown
};
Result<SliceSpec> ResolveSlice(const Node& n, const Shape& in, const std::vector<int64_t>& starts,
                               const std::vector<int64_t>& ends, const std::optional<std::vector<int64_t>>& axes,
                               const std::optional<std::vector<int64_t>>& steps);
// Split sizes along an axis of length dim (dim >= 0). split: explicit sizes (may be empty).
Result<std::vector<int64_t>> ResolveSplit(const Node& n, int64_t dim, const std::vector<int64_t>& split,
                                          int64_t num_outputs);

enum class PadMode { kConstant, kReflect, kEdge, kWrap };
struct PadSpec {
  PadMode mode = PadMode::kConstant;
  std::vector<int64_t> begin, end;  // per input axis; negative = crop
};
Result<PadMode> ParsePadMode(const Node& n);
// pads as given (2*k values for the k axes); axes nullopt = all axes.
Result<PadSpec> ResolvePads(const Node& n, int64_t rank, const std::vector<int64_t>& pads,
                            const std::optional<std::vector<int64_t>>& axes);

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class CoordMode {
  kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNn,
  kTfCropAndResize
};
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };
struct ResizeAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  CoordMode coord = CoordMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  std::vector<int64_t> axes;  // empty = all
  std::string aspect_policy = "stretch";
  bool is_upsample = false;    // Upsample or Resize-10 semantics
  int scales_input = 2;        // index of the scales input (1 for Resize-10/Upsample-9)
  int sizes_input = 3;         // -1 when the op has no sizes input
  int roi_input = 1;           // -1 when the op has no roi
  std::vector<double> attr_scales;  // Upsample-7 takes scales as an attribute
};
Result<ResizeAttrs> ParseResizeAttrs(const Node& n, int64_t opset);
struct ResizeSpec {
  Shape out;
  std::vector<double> scales;  // per axis: the scale used in coordinate transforms
  std::vector<double> roi;     // 2*rank: starts then ends (tf_crop_and_resize)
};
// scales/sizes/roi as given by the node (already unpacked to doubles/ints; empty = absent).
Result<ResizeSpec> ResolveResize(const Node& n, const ResizeAttrs& a, const Shape& in,
                                 const std::vector<double>& scales, const std::vector<int64_t>& sizes,
                                 const std::vector<double>& roi);

// ---- element movers ----
// Calls f(E{}) with E an element type of the same size as dt (uint8_t .. uint64_t) or
// std::string, so kernels move any dtype with one template instantiation per size.
template <typename F>
void WithMoveType(DType dt, F&& f) {
  if (dt == DType::kString) { f(std::string()); return; }
  switch (DTypeSize(dt)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    case 8: f(uint64_t{}); break;
    default: break;
  }
}

// Copies n elements src[si..] -> dst[di..].
inline void CopyElems(DType dt, void* dst, int64_t di, const void* src, int64_t si, int64_t n) {
  if (n <= 0) return;
  if (dt == DType::kString) {
    const auto* s = static_cast<const std::string*>(src) + si;
    std::copy(s, s + n, static_cast<std::string*>(dst) + di);
    return;
  }
  size_t es = DTypeSize(dt);
  std::memcpy(static_cast<char*>(dst) + static_cast<size_t>(di) * es,
              static_cast<const char*>(src) + static_cast<size_t>(si) * es, static_cast<size_t>(n) * es);
}

// Kernel registration seams (backends/cpu/ref_tensor_index.cc, ref_tensor_layout.cc).
void AddRefIndexKernels(std::vector<KernelDef>& defs);
void AddRefLayoutKernels(std::vector<KernelDef>& defs);

// ---- CPU kernel helpers (defined in backends/cpu/ref_tensor.cc; used only by kernels) ----
// Runs fn(begin, end) over [0, n) on pool (inline when pool is null or the work is small).
void ParallelRows(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
// dst[i0..ik] = src[offset + sum_j i_j * src_strides[j]] over out_shape (row-major dst).
// Strides may be 0 (broadcast) or negative (reversed). Any dtype, strings included.
void StridedCopy(DType dt, const void* src, int64_t offset, const std::vector<int64_t>& src_strides, void* dst,
                 const Shape& out_shape, ThreadPool* pool);
// Grain (rows per task) so each task moves about 64 KiB.
inline int64_t RowGrain(int64_t row_elems, DType dt) {
  int64_t bytes = std::max<int64_t>(1, row_elems * static_cast<int64_t>(DTypeSize(dt)));
  return std::max<int64_t>(1, (int64_t{1} << 16) / bytes);
}

}  // namespace greenai::tensorops
