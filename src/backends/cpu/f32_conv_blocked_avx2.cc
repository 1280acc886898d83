// "f32_conv__blocked_avx2": 2-D float32 convolution in the NCHW8c blocked layout (ops/layout.h;
// nodes marked by passes/blocked_layout.cc), a direct AVX2/FMA kernel registered above oneDNN's.
//
// Contract:
//  - Eligible: a Conv marked NCHW8c, float32, rank-5 input [N, C/8, H, W, 8], a constant weight
//    [M, C, KH, KW] with M a multiple of 16, group 1, any kernel size, strides, dilations and
//    pads (nn::ComputeForward's geometry, so shapes agree with the op table), optional bias,
//    fused activation none or Relu. Everything else declines and oneDNN's kernel runs (e.g.
//    the first convolution of an image model, whose 3-channel input is plain NCHW).
//  - Semantics: y = bias + sum over (c, kh, kw) of w * x, then Relu when fused. Each output is
//    summed in float starting from the bias, in the order (c / 8, kh, kw, c % 8) (oneDNN's
//    order for 3x3 convolutions), so results differ from the reference kernel only by float
//    rounding; Relu is max(0, v), so a NaN stays NaN. Zero padding is read as zeros (a padded
//    tap adds 0 * w), so a non-finite weight on a padded tap gives NaN where the reference
//    skips the tap.
//  - Layout of the work: the weight is packed once at plan time as [M/16][C/8][KH][KW][8][16]
//    (16 output channels per group). One tile = 6 consecutive output pixels (in flattened
//    OH x OW order, so rows do not leave remainders) x 16 output channels: 12 accumulators, all
//    input channels and taps summed in registers, then bias/Relu and one store. With padding
//    the input is first copied into a zero-bordered scratch image, so no tile has edge cases.
//    Small batches (N < 2 x threads): the whole batch is padded into the kernel's scratch (kept
//    across runs; only the interior is rewritten), then tiles (n, group, pixels) are split
//    across the pool's threads, each thread keeping to a range of groups (weights stay in L2).
//    Larger batches: whole images per thread, each padded into a per-thread scratch right
//    before its tiles, so the padded copy is read from cache: padding the batch of 32
//    ResNet-18 images up front sent 2 x 26 MB per convolution through memory, and the layer-1
//    convolutions ran at 1.38x ORT's time instead of 1.11x.
//  - No allocation at run time once a shape has been seen (the scratches grow only).
//    Thread safety: one Run at a time per kernel object (the executor's rule for all kernels).
//  - Why: oneDNN 2.6's jit:avx2 convolutions split small maps badly over two threads; in
//    ResNet-18 at batch 1 on 2 threads its 28x28, 14x14 and 7x7 layers took 1.2-1.5x ONNX
//    Runtime's (MLAS) time (bench/ort_compare). The tile loop is inline assembly: with
//    intrinsics GCC spilled accumulators around the loop and ran at 60 % of this kernel's speed.
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "backends/cpu/f32_conv_tile_checks.h"
#include "backends/cpu/f32_tile_6x16_avx2.h"
#include "backends/cpu/kernel.h"
#include "ops/layout.h"
#include "ops/nn_util.h"
#include "passes/passes.h"

namespace greenai {
namespace {

#if defined(GREENAI_TILE_6X16)

using tile6x16::kOc;
using tile6x16::kPix;
using tile6x16::kTiles;
using tile6x16::TileGeom;

class BlockedConv : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    GREENAI_RETURN_IF_ERROR(CheckTileConv(info, "blocked AVX2 conv"));
    const Tensor& w = *info.const_inputs[1];
    std::vector<int64_t> wk{w.dim(2), w.dim(3)};
    GREENAI_ASSIGN_OR_RETURN(nn::WindowAttrs attrs, nn::WindowAttrs::Parse(n, 2, wk, false));
    return std::unique_ptr<Kernel>(new BlockedConv(n, std::move(attrs), w));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    const Tensor* b = ctx.inputs.size() > 2 && ctx.inputs[2] && ctx.inputs[2]->defined() ? ctx.inputs[2] : nullptr;
    Tensor& y = *ctx.outputs[0];
    GREENAI_ASSIGN_OR_RETURN(const nn::WindowGeom* geom, CheckTileConvRun(node_, attrs_, x, b, y, CB_, M_, &geom_));
    const nn::WindowGeom& g = *geom;
    const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3), OH = g.out[0], OW = g.out[1];
    if (N == 0 || OH == 0 || OW == 0) return Status::Ok();
    const int64_t ph = g.pad_begin[0], pw = g.pad_begin[1];
    const int64_t Hp = H + ph + g.pad_end[0], Wp = W + pw + g.pad_end[1];
    const bool padded = Hp != H || Wp != W;
    TileGeom tg;
    tg.cb = CB_;
    tg.kh = KH_;
    tg.kw = KW_;
    tg.plane_bytes = Hp * Wp * kBlock * 4;
    tg.tap_row_bytes = g.dilations[0] * Wp * kBlock * 4;
    tg.tap_col_bytes = g.dilations[1] * kBlock * 4;
    tg.yob = OH * OW * kBlock;
    const int64_t groups = M_ / kOc, pix = OH * OW, tiles = (pix + kPix - 1) / kPix;
    const int64_t sh = g.strides[0], sw = g.strides[1];
    const float* bias = b ? b->data<float>() : nullptr;
    const float* xd = x.data<float>();
    float* yd = y.data<float>();
    const int64_t image_in = CB_ * H * W * kBlock, image_padded = CB_ * Hp * Wp * kBlock;
    const int64_t image_out = (M_ / kBlock) * pix * kBlock;
    // Tiles [t0, t1) x groups [g0, g1) of one image whose (padded) input starts at xn.
    auto tiles_of = [&](const float* xn, float* yn, int64_t g0, int64_t g1, int64_t t0, int64_t t1) {
      const float* xs[kPix];
      float* ys[kPix];
      for (int64_t gi = g0; gi < g1; ++gi) {
        float* yg = yn + gi * 2 * pix * kBlock;
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t q0 = t * kPix, np = std::min(kPix, pix - q0);
          for (int64_t p = 0; p < kPix; ++p) {
            const int64_t q = q0 + std::min(p, np - 1), oh = q / OW, ow = q % OW;
            xs[p] = xn + (oh * sh * Wp + ow * sw) * kBlock;
            ys[p] = yg + q * kBlock;
          }
          kTiles[np](xs, packed_.data() + gi * CB_ * KH_ * KW_ * kBlock * kOc, tg, ys,
                     bias ? bias + gi * kOc : nullptr, relu_);
        }
      }
    };
    const int threads = ctx.pool ? ctx.pool->num_threads() : 1;
    if (N >= 2 * threads) {
      // Whole images per work item: each is padded into its thread's own scratch just before
      // its tiles read it, so the copy stays in cache instead of a batch-sized round trip
      // through memory.
      auto images = [&](int64_t n0, int64_t n1) {
        thread_local std::vector<float> tl_scratch;
        if (padded && tl_scratch.size() < static_cast<size_t>(image_padded))
          tl_scratch.resize(static_cast<size_t>(image_padded));
        for (int64_t n = n0; n < n1; ++n) {
          const float* xn = xd + n * image_in;
          if (padded) {
            PadPlanes(xn, tl_scratch.data(), CB_, H, W, ph, pw, Hp, Wp, /*zero_border=*/true);
            xn = tl_scratch.data();
          }
          tiles_of(xn, yd + n * image_out, 0, groups, 0, tiles);
        }
      };
      if (threads > 1) ctx.pool->ParallelFor(N, 1, images);
      else images(0, N);
      return Status::Ok();
    }
    const float* src = xd;
    if (padded) {
      Pad(xd, N, H, W, ph, pw, Hp, Wp, ctx.pool);
      src = scratch_.data();
    }
    auto body = [&](int64_t i0, int64_t i1) {
      for (int64_t it = i0; it < i1; ++it) {
        const int64_t t = it % tiles, gi = (it / tiles) % groups, n = it / (tiles * groups);
        tiles_of(src + n * image_padded, yd + n * image_out, gi, gi + 1, t, t + 1);
      }
    };
    const int64_t items = N * groups * tiles;
    if (threads > 1 && items > 1) ctx.pool->ParallelFor(items, 1, body);
    else body(0, items);
    return Status::Ok();
  }

 private:
  BlockedConv(const Node& n, nn::WindowAttrs a, const Tensor& w)
      : node_(n), attrs_(std::move(a)), M_(w.dim(0)), CB_(w.dim(1) / kBlock), KH_(w.dim(2)), KW_(w.dim(3)),
        relu_(n.HasAttr(kAttrActivation)) {
    // [M/16][C/8][KH][KW][8 ic][16 oc]
    const int64_t C = w.dim(1);
    const float* wd = w.data<float>();
    packed_.resize(static_cast<size_t>(w.numel()));
    size_t i = 0;
    for (int64_t m0 = 0; m0 < M_; m0 += kOc)
      for (int64_t cb = 0; cb < CB_; ++cb)
        for (int64_t kh = 0; kh < KH_; ++kh)
          for (int64_t kw = 0; kw < KW_; ++kw)
            for (int64_t ic = 0; ic < kBlock; ++ic)
              for (int64_t o = 0; o < kOc; ++o)
                packed_[i++] = wd[(((m0 + o) * C + cb * kBlock + ic) * KH_ + kh) * KW_ + kw];
  }

  // `planes` channel blocks [planes, H, W, 8] into dst [planes, Hp, Wp, 8] at offset (ph, pw).
  // The zero border is written too when zero_border (dst is shared with other shapes), else it
  // must already be zero.
  static void PadPlanes(const float* x, float* dst, int64_t planes, int64_t H, int64_t W, int64_t ph, int64_t pw,
                        int64_t Hp, int64_t Wp, bool zero_border) {
    const size_t row = sizeof(float) * static_cast<size_t>(W * kBlock);
    for (int64_t c = 0; c < planes; ++c, x += H * W * kBlock, dst += Hp * Wp * kBlock) {
      if (zero_border) {
        std::memset(dst, 0, sizeof(float) * static_cast<size_t>(ph * Wp * kBlock));
        std::memset(dst + (ph + H) * Wp * kBlock, 0, sizeof(float) * static_cast<size_t>((Hp - ph - H) * Wp * kBlock));
      }
      for (int64_t h = 0; h < H; ++h) {
        float* d = dst + (h + ph) * Wp * kBlock;
        if (zero_border) {
          std::memset(d, 0, sizeof(float) * static_cast<size_t>(pw * kBlock));
          std::memset(d + (pw + W) * kBlock, 0, sizeof(float) * static_cast<size_t>((Wp - pw - W) * kBlock));
        }
        std::memcpy(d + pw * kBlock, x + h * W * kBlock, row);
      }
    }
  }

  // The whole batch with a zero border into scratch_ ([N, C/8, Hp, Wp, 8]); the border is zeroed
  // only when the scratch is (re)shaped, since runs rewrite just the interior.
  void Pad(const float* x, int64_t N, int64_t H, int64_t W, int64_t ph, int64_t pw, int64_t Hp, int64_t Wp,
           ThreadPool* pool) {
    const std::array<int64_t, 7> shape{N, H, W, Hp, Wp, ph, pw};
    if (shape != scratch_shape_) {
      scratch_.assign(static_cast<size_t>(N * CB_ * Hp * Wp * kBlock), 0.f);
      scratch_shape_ = shape;
    }
    auto body = [&](int64_t p0, int64_t p1) {
      PadPlanes(x + p0 * H * W * kBlock, scratch_.data() + p0 * Hp * Wp * kBlock, p1 - p0, H, W, ph, pw, Hp, Wp,
                false);
    };
    const int64_t planes = N * CB_;
    if (pool && pool->num_threads() > 1 && planes > 1 && planes * H * W * kBlock >= (int64_t{1} << 15))
      pool->ParallelFor(planes, 1, body);
    else
      body(0, planes);
  }

  Node node_;
  nn::WindowAttrs attrs_;
  int64_t M_, CB_, KH_, KW_;
  bool relu_;
  std::vector<float> packed_;
  std::vector<float> scratch_;
  std::array<int64_t, 7> scratch_shape_{};  // all zero: no scratch yet
  TileConvGeomCache geom_;
};

#endif  // GREENAI_TILE_6X16

}  // namespace

void AddBlockedConvKernels(std::vector<KernelDef>& defs) {
#if defined(GREENAI_TILE_6X16)
  defs.push_back({"Conv", "", "f32_conv__blocked_avx2", 15, BlockedConv::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
