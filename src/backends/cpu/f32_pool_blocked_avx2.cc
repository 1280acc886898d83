// "f32_maxpool__blocked_avx2": 2-D MaxPool on a float32 tensor in the NCHW8c blocked layout
// (ops/layout.h; nodes marked by passes/blocked_layout.cc).
//
// Contract:
//  - Eligible: a node marked NCHW8c, float32, rank-5 input [N, C/8, H, W, 8], one output (no
//    Indices), any kernel, stride, dilation, pads and ceil_mode (nn::ComputeForward's geometry,
//    so output shapes agree with the op table). Everything else declines.
//  - Semantics, bit for bit the reference's: per channel, the first in-bounds window element,
//    then each later one replaces it when strictly greater (max(v, acc) = v > acc ? v : acc,
//    which is vmaxps's operand order); a window entirely in padding gives -inf.
//  - One output pixel is one 8-float vector: the max of the window's in-bounds 8-float input
//    vectors. Planes (n, c/8) are split across the pool's threads when the tensor is large.
//  - Why: oneDNN 2.6's jit pooling took 29 ms for ResNet-18's first MaxPool at batch 32 on
//    one core (32 x 64 x 112 x 112 in), ONNX Runtime's NCHWc pool 12 ms.
#include <algorithm>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "backends/cpu/kernel.h"
#include "ops/layout.h"
#include "ops/nn_util.h"

namespace greenai {
namespace {

#if defined(__AVX2__)

class BlockedMaxPool : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    auto decline = [&](const char* why) { return Unimplemented("{}: blocked max pool: {}", n.Describe(), why); };
    if (!IsBlocked8(n)) return decline("node is not marked NCHW8c");
    if (info.input_types.empty() || info.input_types[0].dtype != DType::kF32) return decline("input is not float32");
    const TensorType& t = info.input_types[0];
    if (!t.has_shape || t.rank() != 5 || t.dims[4] != kBlock) return decline("input is not [N, C/8, H, W, 8]");
    if (info.output_types.size() > 1 || (n.outputs.size() > 1 && !n.outputs[1].empty()))
      return decline("Indices output requested");
    GREENAI_ASSIGN_OR_RETURN(nn::WindowAttrs attrs, nn::WindowAttrs::Parse(n, 2, {}, false));
    return std::unique_ptr<Kernel>(new BlockedMaxPool(n, std::move(attrs)));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (x.rank() != 5 || x.dim(4) != kBlock)
      return InvalidArgument("{}: X has shape {}, expected [N, C/8, H, W, 8]", node_.Describe(), ShapeToString(x.shape()));
    const int64_t H = x.dim(2), W = x.dim(3);
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, nn::ComputeForward(node_, attrs_, {H, W}));
    const int64_t OH = g.out[0], OW = g.out[1];
    if (y.rank() != 5 || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1) || y.dim(2) != OH || y.dim(3) != OW)
      return Internal("{}: output shape does not match the window geometry", node_.Describe());
    const float* xd = x.data<float>();
    float* yd = y.data<float>();
    const int64_t planes = x.dim(0) * x.dim(1);
    auto body = [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) Plane(xd + p * H * W * kBlock, H, W, yd + p * OH * OW * kBlock, g);
    };
    if (ctx.pool && ctx.pool->num_threads() > 1 && planes > 1 && x.numel() >= (int64_t{1} << 16))
      ctx.pool->ParallelFor(planes, 1, body);
    else
      body(0, planes);
    return Status::Ok();
  }

 private:
  BlockedMaxPool(const Node& n, nn::WindowAttrs a) : node_(n), attrs_(std::move(a)) {}

  static void Plane(const float* x, int64_t H, int64_t W, float* y, const nn::WindowGeom& g) {
    const int64_t OH = g.out[0], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
    const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
    const int64_t ph = g.pad_begin[0], pw = g.pad_begin[1];
    const __m256 empty = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    for (int64_t oy = 0; oy < OH; ++oy) {
      // In-bounds kernel rows: iy = oy*sh - ph + ky*dh in [0, H).
      int64_t ky0 = 0, ky1 = KH;
      while (ky0 < KH && oy * sh - ph + ky0 * dh < 0) ++ky0;
      while (ky1 > ky0 && oy * sh - ph + (ky1 - 1) * dh >= H) --ky1;
      for (int64_t ox = 0; ox < OW; ++ox) {
        int64_t kx0 = 0, kx1 = KW;
        while (kx0 < KW && ox * sw - pw + kx0 * dw < 0) ++kx0;
        while (kx1 > kx0 && ox * sw - pw + (kx1 - 1) * dw >= W) --kx1;
        __m256 acc = empty;
        bool have = false;
        for (int64_t ky = ky0; ky < ky1; ++ky) {
          const float* row = x + (oy * sh - ph + ky * dh) * W * kBlock;
          for (int64_t kx = kx0; kx < kx1; ++kx) {
            const __m256 v = _mm256_loadu_ps(row + (ox * sw - pw + kx * dw) * kBlock);
            acc = have ? _mm256_max_ps(v, acc) : v;
            have = true;
          }
        }
        _mm256_storeu_ps(y + (oy * OW + ox) * kBlock, acc);
      }
    }
  }

  Node node_;
  nn::WindowAttrs attrs_;
};

#endif  // __AVX2__

}  // namespace

void AddBlockedPoolKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__)
  defs.push_back({"MaxPool", "", "f32_maxpool__blocked_avx2", 20, BlockedMaxPool::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
