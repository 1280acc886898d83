// Kernel family: ref_quant. Reference kernels (priority 0, plain loops) for QuantizeLinear,
// DequantizeLinear, DynamicQuantizeLinear, MatMulInteger and QLinearMatMul, plus the
// optimized int8 GEMM kernels (priority 10, see int8_gemm.h) for the two matmuls; the
// integer convolutions live in ref_quant_conv.cc. See backends/cpu/kernel.h for the contract.
//
// Rounding is round-half-to-even (std::nearbyint in the default FE_TONEAREST mode) and
// results saturate to the output type's range, as ONNX specifies.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/int8_gemm.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_quant_internal.h"
#include "ops/quant_util.h"

namespace greenai {
namespace {

using qk::QuantOut;
using qk::ZeroPointAt;

// Splits x into [outer, axis, inner] around the per-axis dimension (axis count 1 when per-tensor).
struct AxisSplit {
  int64_t outer = 1, count = 1, inner = 1;
};
AxisSplit SplitFor(const Shape& shape, const quant::QuantParamLayout& l) {
  AxisSplit s;
  if (!l.per_axis) {
    s.inner = NumElements(shape);
    return s;
  }
  const size_t ax = static_cast<size_t>(l.axis);
  for (size_t i = 0; i < ax; ++i) s.outer *= shape[i];
  s.count = shape[ax];
  for (size_t i = ax + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

TensorType TypeOf(const Tensor* t) { return t ? TensorType::Of(t->dtype(), t->shape()) : TensorType{}; }

template <typename X, typename Q>
void QuantizeLoop(const Tensor& x, const Tensor& scale, const Tensor* zp, const AxisSplit& s, Tensor& y) {
  const X* xs = x.data<X>();
  Q* ys = y.data<Q>();
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t c = 0; c < s.count; ++c) {
      const float sc = scale.data<float>()[c];
      const int32_t z = zp ? ZeroPointAt(*zp, c) : 0;
      const int64_t base = (o * s.count + c) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        // float x / float scale as ONNX does; int32 inputs divide in double (numpy promotion).
        double q;
        if constexpr (std::is_same_v<X, float>) q = std::nearbyint(xs[base + i] / sc);
        else q = std::nearbyint(static_cast<double>(xs[base + i]) / static_cast<double>(sc));
        ys[base + i] = QuantOut<Q>(q + z);
      }
    }
}

class QuantizeKernel : public Kernel {
 public:
  QuantizeKernel(const Node& node, int64_t opset) : node_(node), opset_(opset), axis_(node.GetInt("axis", 1)) {}
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& scale = *ctx.inputs[1];
    const Tensor* zp = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    GREENAI_ASSIGN_OR_RETURN(auto layout, quant::CheckQuantParams(node_, opset_, TypeOf(&x), TypeOf(&scale),
                                                                  TypeOf(zp), "y_scale", "y_zero_point", axis_));
    const AxisSplit s = SplitFor(x.shape(), layout);
    Tensor& y = *ctx.outputs[0];
    const bool xf = x.dtype() == DType::kF32;
    if (y.dtype() == DType::kU8) {
      if (xf) QuantizeLoop<float, uint8_t>(x, scale, zp, s, y);
      else QuantizeLoop<int32_t, uint8_t>(x, scale, zp, s, y);
    } else {
      if (xf) QuantizeLoop<float, int8_t>(x, scale, zp, s, y);
      else QuantizeLoop<int32_t, int8_t>(x, scale, zp, s, y);
    }
    return Status::Ok();
  }

 private:
  Node node_;
  int64_t opset_, axis_;
};

class DequantizeKernel : public Kernel {
 public:
  DequantizeKernel(const Node& node, int64_t opset) : node_(node), opset_(opset), axis_(node.GetInt("axis", 1)) {}
  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.inputs[0];
    const Tensor& scale = *ctx.inputs[1];
    const Tensor* zp = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    GREENAI_ASSIGN_OR_RETURN(auto layout, quant::CheckQuantParams(node_, opset_, TypeOf(&x), TypeOf(&scale),
                                                                  TypeOf(zp), "x_scale", "x_zero_point", axis_));
    if (x.dtype() == DType::kI32 && zp)
      for (int64_t i = 0; i < zp->numel(); ++i)
        if (ZeroPointAt(*zp, i) != 0)
          return InvalidArgument("{}: x_zero_point[{}] is {} but int32 input requires zero points of 0",
                                 node_.Describe(), i, ZeroPointAt(*zp, i));
    const AxisSplit s = SplitFor(x.shape(), layout);
    float* ys = ctx.outputs[0]->data<float>();
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t c = 0; c < s.count; ++c) {
        const float sc = scale.data<float>()[c];
        const float z = zp ? static_cast<float>(ZeroPointAt(*zp, c)) : 0.f;
        const int64_t base = (o * s.count + c) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i)
          ys[base + i] = (static_cast<float>(qk::IntAt(x, base + i)) - z) * sc;
      }
    return Status::Ok();
  }

 private:
  Node node_;
  int64_t opset_, axis_;
};

// Scale and zero point chosen so that [min(0, x), max(0, x)] maps onto [0, 255] and 0 is exact.
Status RunDynamicQuantize(KernelContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const float* xs = x.data<float>();
  float lo = 0.f, hi = 0.f;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (std::isnan(xs[i])) continue;
    lo = std::min(lo, xs[i]);
    hi = std::max(hi, xs[i]);
  }
  const float scale = (hi - lo) / 255.f;
  uint8_t zp = 0;
  if (scale > 0) zp = QuantOut<uint8_t>(std::nearbyint(0.f - lo / scale));
  uint8_t* ys = ctx.outputs[0]->data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i)
    ys[i] = scale > 0 ? QuantOut<uint8_t>(std::nearbyint(xs[i] / scale) + zp) : 0;
  if (ctx.outputs.size() > 1 && ctx.outputs[1]) ctx.outputs[1]->data<float>()[0] = scale;
  if (ctx.outputs.size() > 2 && ctx.outputs[2]) ctx.outputs[2]->data<uint8_t>()[0] = zp;
  return Status::Ok();
}

// ---- MatMulInteger / QLinearMatMul ----

// Which inputs hold a, b and their zero points / scales.
struct MatMulInputs {
  size_t a = 0, b = 1, za = 2, zb = 3;
  bool qlinear = false;  // inputs: a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
};

class IntMatMulKernel : public Kernel {
 public:
  IntMatMulKernel(const Node& node, bool qlinear, bool fast, const Tensor* const_b, const Tensor* const_zb)
      : node_(node), fast_(fast) {
    if (qlinear) in_ = {0, 3, 2, 5, true};
    // A constant B (weights) is packed on the first run and reused; the zero point must be
    // constant too or absent.
    b_is_const_ = fast && const_b && (const_zb || !node.HasInput(in_.zb));
  }

  Status Run(KernelContext& ctx) override {
    const Tensor& a = *ctx.inputs[in_.a];
    const Tensor& b = *ctx.inputs[in_.b];
    const Tensor* za = ctx.inputs.size() > in_.za ? ctx.inputs[in_.za] : nullptr;
    const Tensor* zb = ctx.inputs.size() > in_.zb ? ctx.inputs[in_.zb] : nullptr;
    GREENAI_ASSIGN_OR_RETURN(int8::MatMulPlan plan, int8::PlanMatMul(node_, a.shape(), b.shape()));
    const int64_t M = plan.M, N = plan.N, K = plan.K;
    const int64_t na = std::max<int64_t>(1, a.numel() / std::max<int64_t>(1, M * K));
    const int64_t nb = std::max<int64_t>(1, b.numel() / std::max<int64_t>(1, K * N));
    GREENAI_ASSIGN_OR_RETURN(std::vector<int32_t> zav, qk::ExpandZeroPoints(node_, za, "a_zero_point", na, M));
    GREENAI_ASSIGN_OR_RETURN(std::vector<int32_t> zbv, qk::ExpandZeroPoints(node_, zb, "b_zero_point", nb, N));
    const bool as = a.dtype() == DType::kI8, bs = b.dtype() == DType::kI8;
    const int64_t out_mats = static_cast<int64_t>(plan.batches.size());
    if (in_.qlinear) acc_.resize(static_cast<size_t>(out_mats * M * N));
    int32_t* acc = in_.qlinear ? acc_.data() : ctx.outputs[0]->data<int32_t>();
    const auto* abytes = static_cast<const uint8_t*>(a.raw());
    const auto* bbytes = static_cast<const uint8_t*>(b.raw());
    if (fast_) {
      // Pack each distinct B matrix once (cached across runs when B is a constant).
      const bool reuse = b_is_const_ && static_cast<int64_t>(packed_.size()) == nb && packed_[0].K() == K &&
                         packed_[0].N() == N;
      if (!reuse) {
        packed_.assign(static_cast<size_t>(nb), int8::PackedB());
        for (int64_t j = 0; j < nb; ++j)
          packed_[static_cast<size_t>(j)].Pack(K, N, bbytes + j * K * N, bs, N, zbv.data() + (zbv.size() > static_cast<size_t>(N) ? j * N : 0));
      }
      ThreadPool* pool = ctx.pool ? ctx.pool : &ThreadPool::Default();
      constexpr int64_t kRowBlock = 32;
      const int64_t row_blocks = (M + kRowBlock - 1) / kRowBlock;
      // Small products run inline: waking workers costs more than the GEMM itself.
      const bool small = out_mats * M * N * K < (int64_t{1} << 21);
      auto body = [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          const int64_t bi = t / row_blocks, m0 = (t % row_blocks) * kRowBlock;
          const auto [ia, ib] = plan.batches[static_cast<size_t>(bi)];
          const int32_t* zrow = zav.data() + (zav.size() > static_cast<size_t>(M) ? ia * M : 0);
          int8::GemmPacked(m0, std::min(M, m0 + kRowBlock), abytes + ia * M * K, as, K, zrow,
                           packed_[static_cast<size_t>(ib)], acc + bi * M * N, N);
        }
      };
      if (small) body(0, out_mats * row_blocks);
      else pool->ParallelFor(out_mats * row_blocks, 1, body);
    } else {
      for (int64_t bi = 0; bi < out_mats; ++bi) {
        const auto [ia, ib] = plan.batches[static_cast<size_t>(bi)];
        const int32_t* zrow = zav.data() + (zav.size() > static_cast<size_t>(M) ? ia * M : 0);
        const int32_t* zcol = zbv.data() + (zbv.size() > static_cast<size_t>(N) ? ib * N : 0);
        int8::GemmRef(M, N, K, abytes + ia * M * K, as, K, zrow, bbytes + ib * K * N, bs, N, zcol, acc + bi * M * N,
                      N);
      }
    }
    if (in_.qlinear) return Requantize(ctx, plan, acc);
    return Status::Ok();
  }

 private:
  // y = saturate(round(acc * a_scale * b_scale / y_scale) + y_zp), per-row a_scale / per-column b_scale allowed.
  Status Requantize(KernelContext& ctx, const int8::MatMulPlan& plan, const int32_t* acc) {
    const Tensor& sa = *ctx.inputs[1];
    const Tensor& sb = *ctx.inputs[4];
    const Tensor& sy = *ctx.inputs[6];
    const Tensor& zy = *ctx.inputs[7];
    const int64_t M = plan.M, N = plan.N;
    if (sa.numel() != 1 && sa.numel() != M)
      return InvalidArgument("{}: a_scale has {} entries, expects 1 or {} (per row)", node_.Describe(), sa.numel(), M);
    if (sb.numel() != 1 && sb.numel() != N)
      return InvalidArgument("{}: b_scale has {} entries, expects 1 or {} (per column)", node_.Describe(),
                             sb.numel(), N);
    if (sy.numel() != 1 || zy.numel() != 1)
      return InvalidArgument("{}: y_scale and y_zero_point must be scalars (have {} and {} entries)",
                             node_.Describe(), sy.numel(), zy.numel());
    const float ys = sy.data<float>()[0];
    const int32_t z = ZeroPointAt(zy, 0);
    Tensor& y = *ctx.outputs[0];
    const int64_t mats = static_cast<int64_t>(plan.batches.size());
    for (int64_t bi = 0; bi < mats; ++bi)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const float mult = sa.data<float>()[sa.numel() == 1 ? 0 : m] * sb.data<float>()[sb.numel() == 1 ? 0 : n] / ys;
          const int64_t i = (bi * M + m) * N + n;
          const double q = std::nearbyint(static_cast<float>(acc[i]) * mult) + z;
          if (y.dtype() == DType::kU8) y.data<uint8_t>()[i] = QuantOut<uint8_t>(q);
          else y.data<int8_t>()[i] = QuantOut<int8_t>(q);
        }
    return Status::Ok();
  }

  Node node_;
  bool fast_;
  MatMulInputs in_;
  bool b_is_const_ = false;
  std::vector<int8::PackedB> packed_;
  std::vector<int32_t> acc_;
};

Result<std::unique_ptr<Kernel>> MakeQuantize(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(std::make_unique<QuantizeKernel>(info.node, info.opset));
}
Result<std::unique_ptr<Kernel>> MakeDequantize(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(std::make_unique<DequantizeKernel>(info.node, info.opset));
}
Result<std::unique_ptr<Kernel>> MakeDynamicQuantize(const KernelInfo&) {
  return std::unique_ptr<Kernel>(MakeLambdaKernel(RunDynamicQuantize));
}
const Tensor* ConstAt(const KernelInfo& info, size_t i) {
  return i < info.const_inputs.size() ? info.const_inputs[i] : nullptr;
}
Result<std::unique_ptr<Kernel>> MakeMatMulIntegerRef(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(std::make_unique<IntMatMulKernel>(info.node, false, false, nullptr, nullptr));
}
Result<std::unique_ptr<Kernel>> MakeMatMulIntegerFast(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(
      std::make_unique<IntMatMulKernel>(info.node, false, true, ConstAt(info, 1), ConstAt(info, 3)));
}
Result<std::unique_ptr<Kernel>> MakeQLinearMatMulRef(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(std::make_unique<IntMatMulKernel>(info.node, true, false, nullptr, nullptr));
}
Result<std::unique_ptr<Kernel>> MakeQLinearMatMulFast(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(
      std::make_unique<IntMatMulKernel>(info.node, true, true, ConstAt(info, 3), ConstAt(info, 5)));
}

}  // namespace

void AddRefQuantKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"QuantizeLinear", "", "any_quantizelinear__ref", 0, MakeQuantize});
  defs.push_back({"DequantizeLinear", "", "any_dequantizelinear__ref", 0, MakeDequantize});
  defs.push_back({"DynamicQuantizeLinear", "", "f32_dynamicquantizelinear__ref", 0, MakeDynamicQuantize});
  defs.push_back({"MatMulInteger", "", "i8_matmulinteger__ref", 0, MakeMatMulIntegerRef});
  defs.push_back({"MatMulInteger", "", "i8_matmulinteger__gemm_i16", 10, MakeMatMulIntegerFast});
  defs.push_back({"QLinearMatMul", "", "i8_qlinearmatmul__ref", 0, MakeQLinearMatMulRef});
  defs.push_back({"QLinearMatMul", "", "i8_qlinearmatmul__gemm_i16", 10, MakeQLinearMatMulFast});
  qk::AddQuantConvKernels(defs);
}

}  // namespace greenai
