// "f32_conv__winograd_avx2": 3x3 stride-1 float32 convolution in the NCHW8c blocked layout by
// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016), registered above the direct kernel (f32_conv_blocked_avx2.cc).
//
// Contract:
//  - Eligible: a Conv marked NCHW8c, float32, static input [N, C/8, H, W, 8], constant weight
//    [M, C, 3, 3] with M a multiple of 16, group 1, strides 1, dilations 1, pads of 0 or 1,
//    optional bias, fused activation none or Relu (f32_conv_tile_checks.h); and one of
//    - at most kWideMaxTiles 2x2 tiles in all (ResNet-18's 7x7 layer at batch 1): one block
//      holds them all, threads split each stage, the transformed weight (up to
//      kMaxWideWeightBytes) is read once per run;
//    - more tiles, at least kMinBlocksPerThread blocks of 6 per thread, and a transformed weight
//      of at most kMaxWeightBytes: blocks go to threads whole, and each block reads the whole
//      transformed weight (16/9 of the direct kernel's), so beyond that the direct kernel is
//      faster (ResNet-18's 512-channel layer at batch 32 stays direct).
//    Anything else declines to the direct kernel or oneDNN.
//  - Semantics: y = bias + conv(x, w) then Relu when fused, computed as, per 2x2 output tile,
//    Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A with the 4x4 input patch d_c read as zero
//    outside the image. The transforms use only 0, +-1 and +-1/2, so each output differs from the
//    direct sum by float rounding of a few more additions: about 1e-6 of the sum of |w * x|
//    (tests allow 1e-4 absolute on unit-scale data; ResNet-18's output stays within 1e-5 of ONNX
//    Runtime's). Relu is max(0, v), so NaN stays NaN; a NaN or Inf input reaches the whole
//    2x2 tile it belongs to (the transforms mix the patch), unlike the direct sum.
//  - Work: blocks of up to 6 * S tiles (flattened n, tile row, tile column). Per block: the
//    input transform into V [16][S][C/8][6][8], then for each of the 16 transform points and
//    each group of 16 output channels the 6x16 micro-kernel (f32_tile_6x16_avx2.h) sums over
//    C, then the output transform adds bias, applies Relu and writes the tile. Many tiles:
//    blocks are split across the pool's threads, each with a per-thread scratch (V and the
//    16 x 6S x M products) sized to stay in L2. At most kWideMaxTiles: one block, its input
//    transform split by channel block, products by (point, group), output transform by output
//    channel block, in a kernel-owned scratch. The weight transform is done once at plan time,
//    packed [16][M/16][C/8][8][16]. Scratches grow only: steady-state runs allocate nothing.
//  - Thread safety: one Run at a time per kernel object (the executor's rule for all kernels).
//  - Why: F(2x2, 3x3) needs 16 multiplies per 2x2 outputs and input channel where the direct
//    sum needs 36, i.e. 2.25x fewer; ResNet-18 spends ~80 % of its time in 3x3 stride-1
//    convolutions.
#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
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

constexpr int64_t kMinBlocksPerThread = 2;
constexpr int64_t kMaxWeightBytes = int64_t{5} << 20;
constexpr int64_t kWideMaxTiles = 24;
constexpr int64_t kMaxWideWeightBytes = int64_t{20} << 20;
constexpr int64_t kScratchBytes = 256 << 10;  // V + products per thread, to stay in L2

// U = G g G^T for one 3x3 filter g (row-major), in double then rounded once.
void TransformFilter(const float* g, float* u /* 16, row-major 4x4 */) {
  static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  double t[4][3];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      u[i * 4 + j] = static_cast<float>(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
}

// V = B^T d B for the 4x4 patch of 8-channel vectors d(r, c) = x[r * row + c * 8]; V[r][c] is
// stored at v + (r * 4 + c) * vstride. Columns first (d B), then rows (B^T .).
inline void TransformInput(const float* x, int64_t row, float* v, int64_t vstride) {
  __m256 w[4][4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    const __m256 d0 = _mm256_loadu_ps(x + r * row), d1 = _mm256_loadu_ps(x + r * row + 8);
    const __m256 d2 = _mm256_loadu_ps(x + r * row + 16), d3 = _mm256_loadu_ps(x + r * row + 24);
    w[r][0] = _mm256_sub_ps(d0, d2);
    w[r][1] = _mm256_add_ps(d1, d2);
    w[r][2] = _mm256_sub_ps(d2, d1);
    w[r][3] = _mm256_sub_ps(d1, d3);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(v + (0 + c) * vstride, _mm256_sub_ps(w[0][c], w[2][c]));
    _mm256_storeu_ps(v + (4 + c) * vstride, _mm256_add_ps(w[1][c], w[2][c]));
    _mm256_storeu_ps(v + (8 + c) * vstride, _mm256_sub_ps(w[2][c], w[1][c]));
    _mm256_storeu_ps(v + (12 + c) * vstride, _mm256_sub_ps(w[1][c], w[3][c]));
  }
}

// A^T m A for the 16 product vectors m[(r * 4 + c) * mstride]; the 2x2 outputs plus bias, then
// Relu when relu, stored at y + (r * row + c * 8) for r < rows, c < cols.
inline void TransformOutput(const float* m, int64_t mstride, __m256 bias, bool relu, float* y, int64_t row,
                            int64_t rows, int64_t cols) {
  __m256 s0[4], s1[4];
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m256 m0 = _mm256_loadu_ps(m + c * mstride), m1 = _mm256_loadu_ps(m + (4 + c) * mstride);
    const __m256 m2 = _mm256_loadu_ps(m + (8 + c) * mstride), m3 = _mm256_loadu_ps(m + (12 + c) * mstride);
    s0[c] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
    s1[c] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
  }
  __m256 o[2][2];
  o[0][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0[0], s0[1]), s0[2]), bias);
  o[0][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s0[1], s0[2]), s0[3]), bias);
  o[1][0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s1[0], s1[1]), s1[2]), bias);
  o[1][1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s1[1], s1[2]), s1[3]), bias);
  const __m256 z = _mm256_setzero_ps();
  if (rows == 2 && cols == 2) {
    _mm256_storeu_ps(y, relu ? _mm256_max_ps(z, o[0][0]) : o[0][0]);
    _mm256_storeu_ps(y + 8, relu ? _mm256_max_ps(z, o[0][1]) : o[0][1]);
    _mm256_storeu_ps(y + row, relu ? _mm256_max_ps(z, o[1][0]) : o[1][0]);
    _mm256_storeu_ps(y + row + 8, relu ? _mm256_max_ps(z, o[1][1]) : o[1][1]);
    return;
  }
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) _mm256_storeu_ps(y + r * row + c * 8, relu ? _mm256_max_ps(z, o[r][c]) : o[r][c]);
}

class WinogradConv : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    GREENAI_RETURN_IF_ERROR(CheckTileConv(info, "Winograd conv"));
    auto decline = [&](const char* why) { return Unimplemented("{}: Winograd conv: {}", n.Describe(), why); };
    const TensorType& xt = info.input_types[0];
    if (std::any_of(xt.dims.begin(), xt.dims.end(), [](int64_t d) { return d < 0; }))
      return decline("input shape is not static");
    const Tensor& w = *info.const_inputs[1];
    if (w.dim(2) != 3 || w.dim(3) != 3) return decline("not a 3x3 convolution");
    std::vector<int64_t> wk{3, 3};
    GREENAI_ASSIGN_OR_RETURN(nn::WindowAttrs attrs, nn::WindowAttrs::Parse(n, 2, wk, false));
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, nn::ComputeForward(n, attrs, {xt.dims[2], xt.dims[3]}));
    for (int i = 0; i < 2; ++i)
      if (g.strides[i] != 1 || g.dilations[i] != 1 || g.pad_begin[i] > 1 || g.pad_end[i] > 1 ||
          g.pad_begin[i] < 0 || g.pad_end[i] < 0)
        return decline("not stride 1, dilation 1, pads 0 or 1");
    const int64_t M = w.dim(0), C = w.dim(1);
    const int64_t tiles = xt.dims[0] * ((g.out[0] + 1) / 2) * ((g.out[1] + 1) / 2);
    int64_t S = 0;
    if (tiles <= kWideMaxTiles) {
      // One block of every tile, the weight read once per run.
      if (16 * M * C * 4 > kMaxWideWeightBytes) return decline("transformed weight too large");
      S = (tiles + kPix - 1) / kPix;
    } else {
      // Blocks as large as the scratch allows, smaller when that leaves a thread too few.
      if (16 * M * C * 4 > kMaxWeightBytes) return decline("transformed weight too large for the caches");
      const int64_t min_tiles = kMinBlocksPerThread * std::max(1, info.num_threads) * kPix;
      if (tiles < min_tiles) return decline("too few tiles");
      S = Subblocks(C, M);
      while (S > 1 && tiles < min_tiles * S) --S;
    }
    return std::unique_ptr<Kernel>(new WinogradConv(n, std::move(attrs), w, S));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    const Tensor* b = ctx.inputs.size() > 2 && ctx.inputs[2] && ctx.inputs[2]->defined() ? ctx.inputs[2] : nullptr;
    Tensor& y = *ctx.outputs[0];
    GREENAI_ASSIGN_OR_RETURN(const nn::WindowGeom* geom, CheckTileConvRun(node_, attrs_, x, b, y, CB_, M_, &geom_));
    const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3), OH = geom->out[0], OW = geom->out[1];
    if (N == 0 || OH <= 0 || OW <= 0) return Status::Ok();
    const int64_t pt = geom->pad_begin[0], pl = geom->pad_begin[1];
    const int64_t TH = (OH + 1) / 2, TW = (OW + 1) / 2, T = N * TH * TW, TB = kPix * S_;
    const int64_t MB = M_ / kBlock, groups = M_ / kOc;
    const float* xd = x.data<float>();
    const float* bias = b ? b->data<float>() : nullptr;
    float* yd = y.data<float>();
    TileGeom tg;
    tg.cb = CB_;
    tg.kh = tg.kw = 1;
    tg.plane_bytes = kPix * kBlock * 4;
    tg.yob = kBlock;
    const size_t v_size = static_cast<size_t>(16 * TB * CB_ * kBlock), m_size = static_cast<size_t>(16 * TB * M_);

    // The three stages on a block of nt tiles starting at tile j0, V and P its scratch.
    // Input transform of tile j's channel blocks [c0, c1): V[xi][s][cb][p][8], j = s * 6 + p.
    auto in_tf = [&](float* V, int64_t j0, int64_t j, int64_t c0, int64_t c1) {
      const int64_t t = j0 + j, n = t / (TH * TW), th = (t / TW) % TH, tw = t % TW;
      const int64_t ih0 = 2 * th - pt, iw0 = 2 * tw - pl;
      const bool inside = ih0 >= 0 && iw0 >= 0 && ih0 + 4 <= H && iw0 + 4 <= W;
      const float* xn = xd + n * CB_ * H * W * kBlock;
      float* vj = V + ((j / kPix) * CB_ * kPix + c0 * kPix + j % kPix) * kBlock;
      const int64_t vstride = S_ * CB_ * kPix * kBlock;
      for (int64_t cb = c0; cb < c1; ++cb, vj += kPix * kBlock) {
        const float* xc = xn + cb * H * W * kBlock;
        if (inside) {
          TransformInput(xc + (ih0 * W + iw0) * kBlock, W * kBlock, vj, vstride);
          continue;
        }
        alignas(32) float patch[4][4][kBlock];  // the patch with zeros outside the image
        for (int r = 0; r < 4; ++r)
          for (int c = 0; c < 4; ++c) {
            const int64_t ih = ih0 + r, iw = iw0 + c;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) std::memcpy(patch[r][c], xc + (ih * W + iw) * kBlock, 32);
            else std::memset(patch[r][c], 0, 32);
          }
        TransformInput(&patch[0][0][0], 4 * kBlock, vj, vstride);
      }
    };
    // Products for transform point xi and output group gi: P[xi][j][M] = sum_c V[xi][j][c] *
    // U[xi][c][M], six tiles x 16 channels at a time.
    auto products = [&](const float* V, float* P, int64_t nt, int64_t xi, int64_t gi) {
      const float* xs[kPix];
      float* ys[kPix];
      const float* u = packed_.data() + (xi * groups + gi) * CB_ * kBlock * kOc;
      for (int64_t s = 0; s * kPix < nt; ++s) {
        const int64_t np = std::min(kPix, nt - s * kPix);
        for (int64_t p = 0; p < kPix; ++p) {
          const int64_t q = std::min(p, np - 1);
          xs[p] = V + ((xi * S_ + s) * CB_ * kPix + q) * kBlock;
          ys[p] = P + (xi * TB + s * kPix + q) * M_ + gi * kOc;
        }
        kTiles[np](xs, u, tg, ys, nullptr, false);
      }
    };
    // Output transform of tile j's channel blocks [o0, o1), bias and Relu.
    auto out_tf = [&](const float* P, int64_t j0, int64_t j, int64_t o0, int64_t o1) {
      const int64_t t = j0 + j, n = t / (TH * TW), oh = 2 * ((t / TW) % TH), ow = 2 * (t % TW);
      const int64_t rows = std::min<int64_t>(2, OH - oh), cols = std::min<int64_t>(2, OW - ow);
      for (int64_t ob = o0; ob < o1; ++ob)
        TransformOutput(P + j * M_ + ob * kBlock, TB * M_,
                        bias ? _mm256_loadu_ps(bias + ob * kBlock) : _mm256_setzero_ps(), relu_,
                        yd + ((n * MB + ob) * OH + oh) * OW * kBlock + ow * kBlock, OW * kBlock, rows, cols);
    };
    const bool threaded = ctx.pool && ctx.pool->num_threads() > 1;
    if (T <= TB) {
      // One block holds every tile (a small map): threads split each stage instead, so the
      // transformed weight is read once per run rather than once per block.
      if (wide_scratch_.size() < v_size + m_size) wide_scratch_.resize(v_size + m_size);
      float* V = wide_scratch_.data();
      float* P = V + v_size;
      auto stage = [&](int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
        if (threaded && n > 1) ctx.pool->ParallelFor(n, 1, fn);
        else fn(0, n);
      };
      stage(CB_, [&](int64_t c0, int64_t c1) {
        for (int64_t j = 0; j < T; ++j) in_tf(V, 0, j, c0, c1);
      });
      stage(16 * groups, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) products(V, P, T, i / groups, i % groups);
      });
      stage(MB, [&](int64_t o0, int64_t o1) {
        for (int64_t j = 0; j < T; ++j) out_tf(P, 0, j, o0, o1);
      });
      return Status::Ok();
    }
    auto body = [&](int64_t b0, int64_t b1) {
      thread_local std::vector<float> tl_scratch;
      if (tl_scratch.size() < v_size + m_size) tl_scratch.resize(v_size + m_size);
      float* V = tl_scratch.data();
      float* P = V + v_size;
      for (int64_t blk = b0; blk < b1; ++blk) {
        const int64_t j0 = blk * TB, nt = std::min(TB, T - j0);
        for (int64_t j = 0; j < nt; ++j) in_tf(V, j0, j, 0, CB_);
        for (int64_t xi = 0; xi < 16; ++xi)
          for (int64_t gi = 0; gi < groups; ++gi) products(V, P, nt, xi, gi);
        for (int64_t j = 0; j < nt; ++j) out_tf(P, j0, j, 0, MB);
      }
    };
    const int64_t blocks = (T + TB - 1) / TB;
    if (threaded && blocks > 1) ctx.pool->ParallelFor(blocks, 1, body);
    else body(0, blocks);
    return Status::Ok();
  }

 private:
  WinogradConv(const Node& n, nn::WindowAttrs a, const Tensor& w, int64_t S)
      : node_(n), attrs_(std::move(a)), M_(w.dim(0)), CB_(w.dim(1) / kBlock), S_(S),
        relu_(n.HasAttr(kAttrActivation)) {
    // [16 xi][M/16][C/8][8 ic][16 oc]
    const int64_t C = w.dim(1), groups = M_ / kOc;
    const float* wd = w.data<float>();
    packed_.resize(static_cast<size_t>(16 * M_ * C));
    float u[16];
    for (int64_t m = 0; m < M_; ++m)
      for (int64_t c = 0; c < C; ++c) {
        TransformFilter(wd + (m * C + c) * 9, u);
        for (int64_t xi = 0; xi < 16; ++xi)
          packed_[static_cast<size_t>((((xi * groups + m / kOc) * CB_ + c / kBlock) * kBlock + c % kBlock) * kOc +
                                      m % kOc)] = u[xi];
      }
  }

  // Tiles per block = 6 * S, S chosen so that V and the products (16 x 6S x (C + M) floats)
  // fit kScratchBytes.
  static int64_t Subblocks(int64_t C, int64_t M) {
    return std::clamp<int64_t>(kScratchBytes / (16 * kPix * (C + M) * 4), 1, 4);
  }

  Node node_;
  nn::WindowAttrs attrs_;
  int64_t M_, CB_, S_;
  bool relu_;
  std::vector<float> packed_;
  std::vector<float> wide_scratch_;  // V and P when one block holds every tile
  TileConvGeomCache geom_;
};

#endif  // GREENAI_TILE_6X16

}  // namespace

void AddWinogradConvKernels(std::vector<KernelDef>& defs) {
#if defined(GREENAI_TILE_6X16)
  defs.push_back({"Conv", "", "f32_conv__winograd_avx2", 16, WinogradConv::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
