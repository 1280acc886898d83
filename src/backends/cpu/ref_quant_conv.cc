// ConvInteger and QLinearConv kernels: a reference (direct N-d loops, priority 0) and an
// im2col + int8 GEMM kernel (priority 10). Padding contributes (x_zero_point - x_zero_point)
// = 0, as ONNX Runtime and the ONNX reference do; the im2col path therefore fills padded
// cells with x_zero_point.
#include <algorithm>
#include <cmath>

#include "backends/cpu/int8_gemm.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_quant_internal.h"
#include "ops/quant_util.h"

namespace greenai::qk {
namespace {

// Input positions: conv inputs are (x, w, x_zp, w_zp) for ConvInteger and
// (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B) for QLinearConv.
struct ConvInputs {
  size_t x = 0, w = 1, xz = 2, wz = 3;
  bool qlinear = false;
};

const Tensor* Opt(const KernelContext& ctx, size_t i) { return i < ctx.inputs.size() ? ctx.inputs[i] : nullptr; }

// Enumerates kernel offsets and output positions of one conv as flat index tables.
struct ConvTables {
  int64_t out_size = 1, kernel_size = 1, in_size = 1;
  // For output position o and kernel position k: input spatial offset, or -1 when in padding.
  std::vector<int64_t> in_offset;  // out_size * kernel_size
};

ConvTables BuildTables(const quant::ConvGeom& g) {
  ConvTables t;
  const size_t nsp = g.in_sp.size();
  for (size_t d = 0; d < nsp; ++d) {
    t.out_size *= g.out_sp[d];
    t.kernel_size *= g.kernel[d];
    t.in_size *= g.in_sp[d];
  }
  t.in_offset.resize(static_cast<size_t>(t.out_size * t.kernel_size));
  std::vector<int64_t> o(nsp), k(nsp);
  for (int64_t oi = 0; oi < t.out_size; ++oi) {
    int64_t r = oi;
    for (size_t d = nsp; d-- > 0;) { o[d] = r % g.out_sp[d]; r /= g.out_sp[d]; }
    for (int64_t ki = 0; ki < t.kernel_size; ++ki) {
      int64_t rk = ki;
      for (size_t d = nsp; d-- > 0;) { k[d] = rk % g.kernel[d]; rk /= g.kernel[d]; }
      int64_t off = 0;
      bool inside = true;
      for (size_t d = 0; d < nsp; ++d) {
        const int64_t pos = o[d] * g.strides[d] - g.pads_begin[d] + k[d] * g.dilations[d];
        if (pos < 0 || pos >= g.in_sp[d]) { inside = false; break; }
        off = off * g.in_sp[d] + pos;
      }
      t.in_offset[static_cast<size_t>(oi * t.kernel_size + ki)] = inside ? off : -1;
    }
  }
  return t;
}

class IntConvKernel : public Kernel {
 public:
  IntConvKernel(const Node& node, bool qlinear, bool fast) : node_(node), fast_(fast) {
    if (qlinear) in_ = {0, 3, 2, 5, true};
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[in_.x];
    const Tensor& w = *ctx.inputs[in_.w];
    GREENAI_ASSIGN_OR_RETURN(quant::ConvGeom g, quant::ComputeConvGeom(node_, x.shape(), w.shape()));
    const int64_t M = g.out_channels, Mg = M / g.group, Cg = w.dim(1);
    const Tensor* xz = Opt(ctx, in_.xz);
    const Tensor* wz = Opt(ctx, in_.wz);
    if (xz && xz->numel() != 1)
      return InvalidArgument("{}: x_zero_point has {} entries, expects a scalar", node_.Describe(), xz->numel());
    GREENAI_ASSIGN_OR_RETURN(std::vector<int32_t> wzv, ExpandZeroPoints(node_, wz, "w_zero_point", 1, M));
    if (wzv.size() != static_cast<size_t>(M))
      return InvalidArgument("{}: w_zero_point has {} entries, expects 1 or {}", node_.Describe(), wzv.size(), M);
    const int32_t xzv = xz ? IntAt(*xz, 0) : 0;
    const ConvTables t = BuildTables(g);
    const int64_t KK = t.kernel_size, OUT = t.out_size, IN = t.in_size;
    if (in_.qlinear) acc_.resize(static_cast<size_t>(g.batch * M * OUT));
    int32_t* acc = in_.qlinear ? acc_.data() : ctx.outputs[0]->data<int32_t>();
    const bool xs = x.dtype() == DType::kI8, ws = w.dtype() == DType::kI8;
    if (!fast_) {
      for (int64_t n = 0; n < g.batch; ++n)
        for (int64_t m = 0; m < M; ++m) {
          const int64_t grp = m / Mg;
          for (int64_t o = 0; o < OUT; ++o) {
            int64_t s = 0;
            for (int64_t c = 0; c < Cg; ++c) {
              const int64_t xbase = (n * g.in_channels + grp * Cg + c) * IN;
              const int64_t wbase = (m * Cg + c) * KK;
              for (int64_t k = 0; k < KK; ++k) {
                const int64_t off = t.in_offset[static_cast<size_t>(o * KK + k)];
                if (off < 0) continue;
                s += static_cast<int64_t>(int8::Load8(x.raw(), xs, xbase + off) - xzv) *
                     (int8::Load8(w.raw(), ws, wbase + k) - wzv[static_cast<size_t>(m)]);
              }
            }
            acc[(n * M + m) * OUT + o] = static_cast<int32_t>(static_cast<uint32_t>(s));
          }
        }
    } else {
      // Per (batch, group): cols[(c, k), o] = x or x_zp in padding; C = (W - wz) * (cols - xz).
      const int64_t rows = Cg * KK;
      cols_.resize(static_cast<size_t>(rows * OUT));
      std::vector<int32_t> xzcol(static_cast<size_t>(OUT), xzv);
      const auto* xb = static_cast<const uint8_t*>(x.raw());
      const auto* wb = static_cast<const uint8_t*>(w.raw());
      ThreadPool* pool = ctx.pool ? ctx.pool : &ThreadPool::Default();
      for (int64_t n = 0; n < g.batch; ++n)
        for (int64_t grp = 0; grp < g.group; ++grp) {
          for (int64_t c = 0; c < Cg; ++c) {
            const uint8_t* xc = xb + (n * g.in_channels + grp * Cg + c) * IN;
            for (int64_t k = 0; k < KK; ++k) {
              uint8_t* dst = cols_.data() + (c * KK + k) * OUT;
              for (int64_t o = 0; o < OUT; ++o) {
                const int64_t off = t.in_offset[static_cast<size_t>(o * KK + k)];
                dst[o] = off < 0 ? static_cast<uint8_t>(xzv) : xc[off];
              }
            }
          }
          packed_.Pack(rows, OUT, cols_.data(), xs, OUT, xzcol.data());
          int32_t* cg = acc + (n * M + grp * Mg) * OUT;
          const int32_t* zrow = wzv.data() + grp * Mg;
          const uint8_t* wg = wb + grp * Mg * rows;
          pool->ParallelFor((Mg + 15) / 16, 1, [&](int64_t lo, int64_t hi) {
            int8::GemmPacked(lo * 16, std::min(Mg, hi * 16), wg, ws, rows, zrow, packed_, cg, OUT);
          });
        }
    }
    if (in_.qlinear) return Requantize(ctx, g.batch, M, OUT, acc);
    return Status::Ok();
  }

 private:
  // y = saturate(round((acc + B[m]) * x_scale * w_scale[m] / y_scale) + y_zp)
  Status Requantize(KernelContext& ctx, int64_t batch, int64_t M, int64_t OUT, const int32_t* acc) {
    const Tensor& xsc = *ctx.inputs[1];
    const Tensor& wsc = *ctx.inputs[4];
    const Tensor& ysc = *ctx.inputs[6];
    const Tensor& yz = *ctx.inputs[7];
    const Tensor* bias = Opt(ctx, 8);
    if (wsc.numel() != 1 && wsc.numel() != M)
      return InvalidArgument("{}: w_scale has {} entries, expects 1 or {} (per output channel)", node_.Describe(),
                             wsc.numel(), M);
    if (bias && bias->numel() != M)
      return InvalidArgument("{}: bias B has {} entries, expects {}", node_.Describe(), bias->numel(), M);
    if (xsc.numel() != 1 || ysc.numel() != 1 || yz.numel() != 1)
      return InvalidArgument("{}: x_scale, y_scale and y_zero_point must be scalars", node_.Describe());
    Tensor& y = *ctx.outputs[0];
    const int32_t z = IntAt(yz, 0);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t m = 0; m < M; ++m) {
        const float mult = xsc.data<float>()[0] * wsc.data<float>()[wsc.numel() == 1 ? 0 : m] / ysc.data<float>()[0];
        const int32_t b = bias ? bias->data<int32_t>()[m] : 0;
        for (int64_t o = 0; o < OUT; ++o) {
          const int64_t i = (n * M + m) * OUT + o;
          const double q = std::nearbyint(static_cast<float>(acc[i] + b) * mult) + z;
          if (y.dtype() == DType::kU8) y.data<uint8_t>()[i] = QuantOut<uint8_t>(q);
          else y.data<int8_t>()[i] = QuantOut<int8_t>(q);
        }
      }
    return Status::Ok();
  }

  Node node_;
  bool fast_;
  ConvInputs in_;
  std::vector<int32_t> acc_;
  std::vector<uint8_t> cols_;
  int8::PackedB packed_;
};

template <bool kQLinear, bool kFast>
Result<std::unique_ptr<Kernel>> MakeConv(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(std::make_unique<IntConvKernel>(info.node, kQLinear, kFast));
}

}  // namespace

void AddQuantConvKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"ConvInteger", "", "i8_convinteger__ref", 0, MakeConv<false, false>});
  defs.push_back({"ConvInteger", "", "i8_convinteger__im2col_gemm_i16", 10, MakeConv<false, true>});
  defs.push_back({"QLinearConv", "", "i8_qlinearconv__ref", 0, MakeConv<true, false>});
  defs.push_back({"QLinearConv", "", "i8_qlinearconv__im2col_gemm_i16", 10, MakeConv<true, true>});
}

}  // namespace greenai::qk
