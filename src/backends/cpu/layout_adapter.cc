// Kernels for layout-marked nodes (ops/layout.h: NHWC and NCHW8c) and the transposes the
// layout passes insert at the edges of their regions.
//
// Contract:
//  - CreateLaidOutKernel: for a marked node, the first candidate kernel that handles the
//    node's layout itself (kNativeNhwc / kNativeBlocked below; such kernels check the mark)
//    wins; otherwise the best plain kernel for the unmarked node is wrapped in an adapter that
//    converts input 0 to NCHW (NHWC -> NCHW; NCHW8c -> NCHW when it has rank 5) and output 0
//    back into the layout, through scratch tensors kept across runs; a ConvAdd's residual Z
//    (ops/layout.h LaidOutInput) is converted in like input 0. Outputs other than 0 are
//    passed through untouched (the passes never mark such nodes).
//  - "any_transpose__nhwc": Transpose of a rank-4 tensor with perm [0, 2, 3, 1] or
//    [0, 3, 1, 2], or of a rank-5 tensor with perm [0, 1, 3, 4, 2] or [0, 1, 4, 2, 3] (the
//    NCHW8c entry and exit), for element sizes 1, 2, 4 and 8 bytes, as a tiled 2-D transpose
//    per image; declines other permutations (the reference kernel runs them).
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "backends/cpu/kernel.h"
#include "ops/layout.h"

namespace greenai {

namespace {

// Kernels that handle a mark themselves.
// The sparse 1x1 convolutions come before the dense one (candidates go in priority order) and
// decline dense weights; without them here a pruned 1x1 Conv in an NHWC region ran dense.
constexpr std::string_view kNativeNhwc[] = {"i8_qlinearconv__onednn",  "i8_maxpool__avx2",     "f32_conv__onednn",
                                            "f32_convadd__onednn",     "f32_conv1x1__csr",     "f32_conv1x1__nm24",
                                            "f32_maxpool__onednn",     "f32_averagepool__onednn",
                                            "f32_globalaveragepool__onednn"};
constexpr std::string_view kNativeBlocked[] = {"f32_conv__onednn",          "f32_convadd__onednn", "f32_conv__blocked_avx2",
                                               "f32_conv__winograd_avx2",   "f32_maxpool__blocked_avx2",
                                               "f32_maxpool__onednn",       "f32_averagepool__onednn",
                                               "f32_globalaveragepool__onednn", "f32_globalmaxpool__onednn"};

bool IsNative(const Node& n, std::string_view name) {
  if (IsBlocked8(n)) return std::find(std::begin(kNativeBlocked), std::end(kNativeBlocked), name) != std::end(kNativeBlocked);
  return std::find(std::begin(kNativeNhwc), std::end(kNativeNhwc), name) != std::end(kNativeNhwc);
}

// dst[c][p] = src[p * ld + c] for c < C, p < P (a P x C block of rows `ld` apart, written as
// C rows of P), of `E`-byte elements, tiled for the caches. Few rows (an RGB image's 3
// channels) go column by column: the tiles would be 3 deep.
template <typename E>
void Transpose2D(const E* src, E* dst, int64_t P, int64_t C, int64_t ld) {
  if (P <= 4) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p) dst[c * P + p] = src[p * ld + c];
    return;
  }
  constexpr int64_t kT = 16;
  for (int64_t p0 = 0; p0 < P; p0 += kT)
    for (int64_t c0 = 0; c0 < C; c0 += kT) {
      const int64_t p1 = std::min(P, p0 + kT), c1 = std::min(C, c0 + kT);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t p = p0; p < p1; ++p) dst[c * P + p] = src[p * ld + c];
    }
}

// Per image of `dims` = {N, A, B} elements: [A][B] -> [B][A]. Fewer images than threads (a
// batch-1 input) split each image's B columns between the threads instead.
void TransposeImages(const void* src, void* dst, int64_t n, int64_t a, int64_t b, size_t esize, ThreadPool* pool) {
  // Image i, columns [c0, c1).
  auto part = [&](int64_t i, int64_t c0, int64_t c1) {
    const size_t off = static_cast<size_t>(i * a * b) * esize;
    const auto* s = static_cast<const uint8_t*>(src) + off + static_cast<size_t>(c0) * esize;
    auto* d = static_cast<uint8_t*>(dst) + off + static_cast<size_t>(c0 * a) * esize;
    const int64_t w = c1 - c0;
    switch (esize) {
      case 1: Transpose2D(s, d, a, w, b); break;
      case 2: Transpose2D(reinterpret_cast<const uint16_t*>(s), reinterpret_cast<uint16_t*>(d), a, w, b); break;
      case 4: Transpose2D(reinterpret_cast<const uint32_t*>(s), reinterpret_cast<uint32_t*>(d), a, w, b); break;
      default: Transpose2D(reinterpret_cast<const uint64_t*>(s), reinterpret_cast<uint64_t*>(d), a, w, b); break;
    }
  };
  const bool big = n * a * b * static_cast<int64_t>(esize) >= (int64_t{1} << 16);
  const int threads = pool ? pool->num_threads() : 1;
  if (big && threads > 1 && n < threads) {
    constexpr int64_t kCols = 256;  // columns per task
    const int64_t tasks = (b + kCols - 1) / kCols;
    pool->ParallelFor(n * tasks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t c0 = (t % tasks) * kCols;
        part(t / tasks, c0, std::min(b, c0 + kCols));
      }
    });
  } else if (big && threads > 1) {
    pool->ParallelFor(n, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) part(i, 0, b);
    });
  } else {
    for (int64_t i = 0; i < n; ++i) part(i, 0, b);
  }
}

// x NHWC -> y NCHW (to_nchw) or x NCHW -> y NHWC; x's shape gives N, and the two inner extents.
void Relayout(const Tensor& x, Tensor& y, bool to_nchw, ThreadPool* pool) {
  const int64_t N = x.dim(0);
  const int64_t hw = to_nchw ? x.dim(1) * x.dim(2) : x.dim(2) * x.dim(3);
  const int64_t c = to_nchw ? x.dim(3) : x.dim(1);
  // NHWC -> NCHW: each image is [HW][C] -> [C][HW]; NCHW -> NHWC: [C][HW] -> [HW][C].
  if (to_nchw) TransposeImages(x.raw(), y.raw(), N, hw, c, DTypeSize(x.dtype()), pool);
  else TransposeImages(x.raw(), y.raw(), N, c, hw, DTypeSize(x.dtype()), pool);
}

// x [N, C/8, H, W, 8] -> y [N, C, H, W] (to_nchw) or back: per (n, c/8), [HW][8] <-> [8][HW].
void RelayoutBlocked(const Tensor& x, Tensor& y, bool to_nchw, ThreadPool* pool) {
  const int64_t blocks = to_nchw ? x.dim(0) * x.dim(1) : y.dim(0) * y.dim(1);
  const int64_t hw = x.dim(2) * x.dim(3);  // H and W sit at dims 2, 3 in both layouts
  if (to_nchw) TransposeImages(x.raw(), y.raw(), blocks, hw, kBlock, DTypeSize(x.dtype()), pool);
  else TransposeImages(x.raw(), y.raw(), blocks, kBlock, hw, DTypeSize(x.dtype()), pool);
}

Shape PermShape(const Shape& s, bool to_nchw) {
  return to_nchw ? Shape{s[0], s[3], s[1], s[2]} : Shape{s[0], s[2], s[3], s[1]};
}

// The plain NCHW shape of a laid-out value `s`.
Shape PlainShape(const Shape& s, bool blocked) {
  if (!blocked) return PermShape(s, true);
  return s.size() == 5 ? Shape{s[0], s[1] * s[4], s[2], s[3]} : s;
}

class LayoutAdapter : public Kernel {
 public:
  explicit LayoutAdapter(std::unique_ptr<Node> plain, bool blocked) : plain_(std::move(plain)), blocked_(blocked) {}
  const Node& plain() const { return *plain_; }
  void set_inner(std::unique_ptr<Kernel> k) { inner_ = std::move(k); }

  Status Run(KernelContext& ctx) override {
    if (ctx.inputs.empty() || !ctx.inputs[0] || ctx.outputs.empty() || !ctx.outputs[0])
      return InvalidArgument("{}: layout adapter needs input 0 and output 0", plain_->Describe());
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    const int rank = blocked_ ? 5 : 4;  // a blocked node may also read a plain rank-4 input
    if ((x.rank() != rank && !(blocked_ && x.rank() == 4)) || y.rank() != rank || (blocked_ && y.dim(4) != kBlock))
      return InvalidArgument("{}: {} adapter got input 0 of rank {} and output 0 of shape {}", plain_->Describe(),
                             blocked_ ? kLayoutBlocked8 : kLayoutNhwc, x.rank(), ShapeToString(y.shape()));
    const bool convert_in = !blocked_ || x.rank() == 5;
    if (convert_in) GREENAI_RETURN_IF_ERROR(Fit(x_, x.dtype(), PlainShape(x.shape(), blocked_)));
    GREENAI_RETURN_IF_ERROR(Fit(y_, y.dtype(), PlainShape(y.shape(), blocked_)));
    if (convert_in) {
      if (blocked_) RelayoutBlocked(x, x_, true, ctx.pool);
      else Relayout(x, x_, true, ctx.pool);
    }
    KernelContext inner = ctx;
    if (convert_in) inner.inputs[0] = &x_;
    for (size_t i = 1; i < ctx.inputs.size(); ++i) {  // other laid-out inputs: same rank rules as input 0
      if (!LaidOutInput(*plain_, i) || !ctx.inputs[i]) continue;
      const Tensor& v = *ctx.inputs[i];
      if (v.rank() != rank || (blocked_ && v.dim(4) != kBlock))
        return InvalidArgument("{}: {} adapter got input {} of shape {}", plain_->Describe(),
                               blocked_ ? kLayoutBlocked8 : kLayoutNhwc, i, ShapeToString(v.shape()));
      Tensor& s = extra_[i];
      GREENAI_RETURN_IF_ERROR(Fit(s, v.dtype(), PlainShape(v.shape(), blocked_)));
      if (blocked_) RelayoutBlocked(v, s, true, ctx.pool);
      else Relayout(v, s, true, ctx.pool);
      inner.inputs[i] = &s;
    }
    inner.outputs[0] = &y_;
    GREENAI_RETURN_IF_ERROR(inner_->Run(inner));
    if (blocked_) RelayoutBlocked(y_, y, false, ctx.pool);
    else Relayout(y_, y, false, ctx.pool);
    return Status::Ok();
  }

 private:
  static Status Fit(Tensor& t, DType d, const Shape& s) {
    if (t.defined() && t.dtype() == d && t.shape() == s) return Status::Ok();
    GREENAI_ASSIGN_OR_RETURN(t, Tensor::Create(d, s));
    return Status::Ok();
  }
  std::unique_ptr<Node> plain_;
  bool blocked_;
  std::unique_ptr<Kernel> inner_;
  Tensor x_, y_;  // NCHW scratch, reused while shapes stay the same
  std::map<size_t, Tensor> extra_;  // the same for other laid-out inputs, by position
};

class TransposeNhwc : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<int64_t> perm = info.node.GetInts("perm");
    using P = std::vector<int64_t>;
    const bool to_nhwc = perm == P{0, 2, 3, 1}, to_nchw = perm == P{0, 3, 1, 2};
    const bool inner_last = perm == P{0, 1, 3, 4, 2}, inner_first = perm == P{0, 1, 4, 2, 3};
    if (!to_nhwc && !to_nchw && !inner_last && !inner_first)
      return Unimplemented("{}: not an NCHW <-> NHWC / NCHW8c permutation", info.node.Describe());
    const int rank = (to_nhwc || to_nchw) ? 4 : 5;
    if (info.input_types.empty() || !info.input_types[0].has_shape || info.input_types[0].rank() != rank)
      return Unimplemented("{}: input rank is not {}", info.node.Describe(), rank);
    const size_t es = DTypeSize(info.input_types[0].dtype);
    if (info.input_types[0].dtype == DType::kString || (es != 1 && es != 2 && es != 4 && es != 8))
      return Unimplemented("{}: element type", info.node.Describe());
    auto k = std::make_unique<TransposeNhwc>();
    k->to_nchw_ = to_nchw;
    k->rank5_ = rank == 5;
    k->inner_last_ = inner_last;
    return std::unique_ptr<Kernel>(std::move(k));
  }
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    if (x.rank() != (rank5_ ? 5 : 4)) return InvalidArgument("Transpose: input rank {} is not {}", x.rank(), rank5_ ? 5 : 4);
    if (!rank5_) {
      Relayout(x, *ctx.outputs[0], to_nchw_, ctx.pool);
      return Status::Ok();
    }
    // [A, B, d2, d3, d4]: per (a, b) image, [d2][d3 d4] -> [d3 d4][d2] (inner_last) or
    // [d2 d3][d4] -> [d4][d2 d3].
    const int64_t images = x.dim(0) * x.dim(1);
    const int64_t rows = inner_last_ ? x.dim(2) : x.dim(2) * x.dim(3);
    const int64_t cols = inner_last_ ? x.dim(3) * x.dim(4) : x.dim(4);
    TransposeImages(x.raw(), ctx.outputs[0]->raw(), images, rows, cols, DTypeSize(x.dtype()), ctx.pool);
    return Status::Ok();
  }

 private:
  bool to_nchw_ = false, rank5_ = false, inner_last_ = false;
};

}  // namespace

Result<CreatedKernel> CreateLaidOutKernel(const KernelInfo& info, bool reference_only) {
  if (!reference_only)
    for (const KernelDef* d : KernelRegistry::Get().Candidates(info.node.domain, info.node.op_type)) {
      if (!IsNative(info.node, d->name)) continue;
      auto k = d->create(info);
      if (k.ok()) return CreatedKernel{std::move(k).value(), d->name};
      if (k.status().code() != StatusCode::kUnimplemented) return k.status();
    }
  const bool blocked = IsBlocked8(info.node);
  auto plain = std::make_unique<Node>(info.node);
  plain->attributes.erase(kAttrLayout);
  auto adapter = std::make_unique<LayoutAdapter>(std::move(plain), blocked);
  KernelInfo pi{adapter->plain(), info.opset, info.input_types, info.const_inputs, info.output_types, info.num_threads};
  auto to_plain = [blocked](const TensorType& t) { return blocked ? BlockedToNchw(t) : NhwcToNchw(t); };
  for (size_t i = 0; i < pi.input_types.size(); ++i)
    if (LaidOutInput(info.node, i)) {
      pi.input_types[i] = to_plain(pi.input_types[i]);
      if (i < pi.const_inputs.size()) pi.const_inputs[i] = nullptr;
    }
  if (!pi.output_types.empty()) pi.output_types[0] = to_plain(pi.output_types[0]);
  GREENAI_ASSIGN_OR_RETURN(CreatedKernel inner, CreateKernel(pi, reference_only));
  adapter->set_inner(std::move(inner.kernel));
  return CreatedKernel{std::move(adapter), inner.name};
}

void AddLayoutKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Transpose", "", "any_transpose__nhwc", 10, TransposeNhwc::Create});
}

}  // namespace greenai
