// "i8_maxpool__avx2": MaxPool on uint8 / int8 NCHW tensors (the pools QdqFusion leaves in the
// integer domain, passes/qdq_fusion.cc), without leaving the graph's layout.
//
// Contract:
//  - Eligible: 2-D pooling (rank-4 X), one output (no Indices), uint8 or int8, any kernel,
//    stride, dilation, explicit or auto pads and ceil_mode; the geometry is the one the op
//    table computes (nn::ComputeForward), so output shapes agree with the reference.
//  - Semantics: y = max over the window's in-bounds inputs (padding never wins, as in ONNX).
//    Exact: max of integers, no arithmetic.
//  - Fast path: kernel 2x2, stride 2, dilation 1 (the CNNs' pool): two input rows -> one
//    output row with 32-byte vertical and pairwise horizontal maxima. Other windows take the
//    generic loop (still row-wise over the plane, no reorders).
//  - Why not oneDNN's int8 pooling: it works in nhwc, so each call reorders the NCHW tensor
//    in and out (bench: 11.7 us for the cnn's 16x28x28 pool at batch 1, mostly reorders and
//    primitive overhead).
//  - Planes (n, c) are split across the pool's threads when the tensor is large enough.
//  - Channels-last marked nodes (ops/layout.h): X is [N, H, W, C] and Y [N, OH, OW, C]; the
//    max runs over whole C-vectors (32 bytes at a time). The 2x2 stride-2 window with every
//    window inside the input takes its four pixels directly (the cnn's 16x28x28 pool at batch
//    1: 7.3 -> 2.4 us; the generic loop built a pointer list per output pixel).
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "backends/cpu/kernel.h"
#include "ops/layout.h"
#include "ops/nn_util.h"

namespace greenai {
namespace {

#if defined(__AVX2__)

class MaxPool8 : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Node& n = info.node;
    auto decline = [&](const char* why) { return Unimplemented("{}: avx2 8-bit max pool: {}", n.Describe(), why); };
    if (info.input_types.empty()) return decline("no input type");
    const TensorType& t = info.input_types[0];
    if (t.dtype != DType::kU8 && t.dtype != DType::kI8) return decline("input is not 8-bit");
    if (!t.has_shape || t.rank() != 4) return decline("input is not a rank-4 tensor");
    if (info.output_types.size() > 1 || (n.outputs.size() > 1 && !n.outputs[1].empty()))
      return decline("Indices output requested");
    GREENAI_ASSIGN_OR_RETURN(nn::WindowAttrs attrs, nn::WindowAttrs::Parse(n, 2, {}, false));
    auto k = std::unique_ptr<MaxPool8>(new MaxPool8(n, std::move(attrs)));
    k->signed_ = t.dtype == DType::kI8;
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (x.rank() != 4) return InvalidArgument("{}: X has rank {}, expected 4", node_.Describe(), x.rank());
    if (IsChannelsLast(node_)) return RunNhwc(ctx);
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, nn::ComputeForward(node_, attrs_, {x.dim(2), x.dim(3)}));
    const int64_t H = x.dim(2), W = x.dim(3), OH = g.out[0], OW = g.out[1];
    if (y.rank() != 4 || y.dim(2) != OH || y.dim(3) != OW || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1))
      return Internal("{}: output shape does not match the window geometry", node_.Describe());
    const int64_t planes = x.dim(0) * x.dim(1);
    const auto* xd = static_cast<const uint8_t*>(x.raw());
    auto* yd = static_cast<uint8_t*>(y.raw());
    const bool fast = g.kernel[0] == 2 && g.kernel[1] == 2 && g.strides[0] == 2 && g.strides[1] == 2 &&
                      g.dilations[0] == 1 && g.dilations[1] == 1 && g.pad_begin[0] == 0 && g.pad_begin[1] == 0 &&
                      2 * (OH - 1) < H && 2 * (OW - 1) < W;  // every window starts in bounds
    auto body = [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const uint8_t* xp = xd + p * H * W;
        uint8_t* yp = yd + p * OH * OW;
        if (fast) Plane2x2(xp, H, W, yp, OH, OW, xd + x.numel());
        else PlaneGeneric(xp, H, W, yp, g);
      }
    };
    if (ctx.pool && ctx.pool->num_threads() > 1 && x.numel() >= (int64_t{1} << 16))
      ctx.pool->ParallelFor(planes, 1, body);
    else
      body(0, planes);
    return Status::Ok();
  }

 private:
  MaxPool8(const Node& n, nn::WindowAttrs a) : node_(n), attrs_(std::move(a)) {}

  // Channels-last marked node (ops/layout.h): X [N, H, W, C], Y [N, OH, OW, C]; each output
  // pixel is the byte-wise max of the window's in-bounds C-vectors.
  Status RunNhwc(KernelContext& ctx) const {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    const int64_t N = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
    GREENAI_ASSIGN_OR_RETURN(nn::WindowGeom g, nn::ComputeForward(node_, attrs_, {H, W}));
    const int64_t OH = g.out[0], OW = g.out[1];
    if (y.rank() != 4 || y.dim(0) != N || y.dim(1) != OH || y.dim(2) != OW || y.dim(3) != C)
      return Internal("{}: output shape does not match the window geometry", node_.Describe());
    const auto* xd = static_cast<const uint8_t*>(x.raw());
    auto* yd = static_cast<uint8_t*>(y.raw());
    const uint8_t b = Bias();
    // Kernel 2x2, stride 2, no leading pads, every window inside the input (the CNNs' pool):
    // four fixed pointers per output pixel.
    const bool fast = g.kernel[0] == 2 && g.kernel[1] == 2 && g.strides[0] == 2 && g.strides[1] == 2 &&
                      g.dilations[0] == 1 && g.dilations[1] == 1 && g.pad_begin[0] == 0 && g.pad_begin[1] == 0 &&
                      2 * OH <= H && 2 * OW <= W;
    auto body = [&](int64_t r0, int64_t r1) {
      if (fast) {
        for (int64_t r = r0; r < r1; ++r) {  // r = n * OH + oy
          const int64_t n = r / OH, oy = r % OH;
          const uint8_t* row0 = xd + (n * H + 2 * oy) * W * C;
          const uint8_t* row1 = row0 + W * C;
          uint8_t* out = yd + r * OW * C;
          for (int64_t ox = 0; ox < OW; ++ox, out += C) {
            const uint8_t* win[4] = {row0 + 2 * ox * C, row0 + (2 * ox + 1) * C, row1 + 2 * ox * C,
                                     row1 + (2 * ox + 1) * C};
            MaxOfPixels(win, 4, C, b, out);
          }
        }
        return;
      }
      std::vector<const uint8_t*> win;  // the window's in-bounds input pixels
      win.reserve(static_cast<size_t>(g.kernel[0] * g.kernel[1]));
      for (int64_t r = r0; r < r1; ++r) {  // r = n * OH + oy
        const int64_t n = r / OH, oy = r % OH;
        for (int64_t ox = 0; ox < OW; ++ox) {
          uint8_t* out = yd + ((n * OH + oy) * OW + ox) * C;
          win.clear();
          for (int64_t ky = 0; ky < g.kernel[0]; ++ky) {
            const int64_t iy = oy * g.strides[0] - g.pad_begin[0] + ky * g.dilations[0];
            if (iy < 0 || iy >= H) continue;
            for (int64_t kx = 0; kx < g.kernel[1]; ++kx) {
              const int64_t ix = ox * g.strides[1] - g.pad_begin[1] + kx * g.dilations[1];
              if (ix >= 0 && ix < W) win.push_back(xd + ((n * H + iy) * W + ix) * C);
            }
          }
          if (win.empty()) {  // window entirely in padding: 0, as the reference
            std::memset(out, 0, static_cast<size_t>(C));
            continue;
          }
          MaxOfPixels(win.data(), win.size(), C, b, out);
        }
      }
    };
    if (ctx.pool && ctx.pool->num_threads() > 1 && x.numel() >= (int64_t{1} << 16))
      ctx.pool->ParallelFor(N * OH, 1, body);
    else
      body(0, N * OH);
    return Status::Ok();
  }

  // out[c] = max over the `count` (>= 1) pixels win[i][c], c < C; bytes xor `b` compare as
  // unsigned (b = 0x80 for int8).
  __attribute__((always_inline)) static inline void MaxOfPixels(const uint8_t* const* win, size_t count, int64_t C,
                                                                uint8_t b, uint8_t* out) {
    const __m256i bias = _mm256_set1_epi8(static_cast<char>(b));
    int64_t c = 0;
    for (; c + 32 <= C; c += 32) {
      __m256i m = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(win[0] + c)), bias);
      for (size_t i = 1; i < count; ++i)
        m = _mm256_max_epu8(m, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(win[i] + c)), bias));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), _mm256_xor_si256(m, bias));
    }
    for (; c + 16 <= C; c += 16) {
      const __m128i b16 = _mm256_castsi256_si128(bias);
      __m128i m = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(win[0] + c)), b16);
      for (size_t i = 1; i < count; ++i)
        m = _mm_max_epu8(m, _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(win[i] + c)), b16));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), _mm_xor_si128(m, b16));
    }
    for (; c < C; ++c) {
      uint8_t m = win[0][c] ^ b;
      for (size_t i = 1; i < count; ++i) m = std::max<uint8_t>(m, win[i][c] ^ b);
      out[c] = m ^ b;
    }
  }

  // Bytes compared as unsigned: int8 is biased by 0x80 on the way in and out.
  uint8_t Bias() const { return signed_ ? 0x80 : 0; }

  // Kernel 2x2 stride 2 without leading pads: output (oy, ox) covers rows 2oy, 2oy+1 and
  // columns 2ox, 2ox+1, clipped to the input (ceil_mode / trailing pads can leave a window
  // with one row or column in bounds).
  // x_end: end of the whole input; a short row's last block may read past the row (into the
  // next rows, discarded) but never past x_end.
  void Plane2x2(const uint8_t* x, int64_t H, int64_t W, uint8_t* y, int64_t OH, int64_t OW,
                const uint8_t* x_end) const {
    const __m256i bias = _mm256_set1_epi8(static_cast<char>(Bias()));
    const __m256i lo_mask = _mm256_set1_epi16(0x00ff);
    const uint8_t b = Bias();
    for (int64_t oy = 0; oy < OH; ++oy) {
      const uint8_t* r0 = x + 2 * oy * W;
      const uint8_t* r1 = 2 * oy + 1 < H ? r0 + W : r0;
      uint8_t* out = y + oy * OW;
      int64_t ox = 0;
      // 32 outputs from 64 bytes of each row, while both columns of every window are in bounds.
      auto block = [&](int64_t o) {  // outputs o .. o + 31 from 64 bytes of both rows
        auto vmax = [&](int64_t off) {
          const __m256i a = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + off)), bias);
          const __m256i c = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1 + off)), bias);
          const __m256i v = _mm256_max_epu8(a, c);
          // Pairs (even, odd byte) of each 16-bit lane -> their max in the low byte.
          return _mm256_max_epu16(_mm256_and_si256(v, lo_mask), _mm256_srli_epi16(v, 8));
        };
        const __m256i m0 = vmax(2 * o), m1 = vmax(2 * o + 32);
        // packus works per 128-bit lane: fix the quadword order afterwards.
        return _mm256_xor_si256(_mm256_permute4x64_epi64(_mm256_packus_epi16(m0, m1), 0xd8), bias);
      };
      // While both columns of every window are in bounds.
      for (; ox + 32 <= OW && 2 * (ox + 32) <= W; ox += 32)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + ox), block(ox));
      // A short row (the cnn's are 28 and 14 wide): one block, keeping the valid outputs.
      const int64_t full = std::min(OW, W / 2);  // outputs whose two columns are in bounds
      if (ox < full && std::max(r0, r1) + 2 * ox + 64 <= x_end) {
        alignas(32) uint8_t tmp[32];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), block(ox));
        const int64_t n = std::min<int64_t>(32, full - ox);
        std::memcpy(out + ox, tmp, static_cast<size_t>(n));
        ox += n;
      }
      for (; ox < OW; ++ox) {
        const int64_t c0 = 2 * ox, c1 = std::min(2 * ox + 1, W - 1);
        uint8_t m = std::max<uint8_t>(r0[c0] ^ b, r0[c1] ^ b);
        m = std::max<uint8_t>(m, std::max<uint8_t>(r1[c0] ^ b, r1[c1] ^ b));
        out[ox] = m ^ b;
      }
    }
  }

  void PlaneGeneric(const uint8_t* x, int64_t H, int64_t W, uint8_t* y, const nn::WindowGeom& g) const {
    const uint8_t b = Bias();
    const int64_t OH = g.out[0], OW = g.out[1];
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        int best = -1;  // no in-bounds input yet
        for (int64_t ky = 0; ky < g.kernel[0]; ++ky) {
          const int64_t iy = oy * g.strides[0] - g.pad_begin[0] + ky * g.dilations[0];
          if (iy < 0 || iy >= H) continue;
          for (int64_t kx = 0; kx < g.kernel[1]; ++kx) {
            const int64_t ix = ox * g.strides[1] - g.pad_begin[1] + kx * g.dilations[1];
            if (ix < 0 || ix >= W) continue;
            best = std::max(best, static_cast<int>(x[iy * W + ix] ^ b));
          }
        }
        // A window entirely in the padding gives 0, as the reference kernel does.
        y[oy * OW + ox] = best < 0 ? 0 : static_cast<uint8_t>(static_cast<uint8_t>(best) ^ b);
      }
  }

  Node node_;
  nn::WindowAttrs attrs_;
  bool signed_ = false;
};

#endif  // __AVX2__

}  // namespace

void AddInt8PoolKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__)
  defs.push_back({"MaxPool", "", "i8_maxpool__avx2", 20, MaxPool8::Create});
#else
  (void)defs;
#endif
}

}  // namespace greenai
