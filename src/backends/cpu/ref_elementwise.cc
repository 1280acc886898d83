// Reference kernels: unary math and activations (any_<op>__ref). Plain scalar loops;
// every float type is computed in double and rounded once, so these are the oracle for
// the optimized kernels. Binary/variadic ops live in ref_elementwise_binary.cc, Cast in
// ref_elementwise_cast.cc. See backends/cpu/kernel.h for the contract.
#include <cmath>
#include <numbers>
#include <string>

#include "backends/cpu/ref_elementwise_internal.h"

namespace greenai {
void AddRefElementwiseBinaryKernels(std::vector<KernelDef>& defs);
void AddRefElementwiseCastKernels(std::vector<KernelDef>& defs);

namespace {

using namespace ew;

enum class U {
  kAbs, kNeg, kReciprocal, kSqrt, kExp, kLog, kFloor, kCeil, kRound, kSign, kErf, kSin, kCos, kTan, kAsin, kAcos,
  kAtan, kSinh, kCosh, kAsinh, kAcosh, kAtanh, kRelu, kTanh, kLeakyRelu, kThresholdedRelu, kElu, kSelu, kCelu,
  kSigmoid, kHardSigmoid, kHardSwish, kGelu, kSoftplus, kSoftsign, kMish, kShrink, kBitwiseNot, kNot, kIsNaN, kIsInf
};

struct UnaryParams {
  double alpha = 0, beta = 0, gamma = 0, lambd = 0, bias = 0;
  bool tanh_approx = false;
  bool detect_neg = true, detect_pos = true;
};

double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

double ApplyFloat(U op, double x, const UnaryParams& p) {
  switch (op) {
    case U::kAbs: return std::fabs(x);
    case U::kNeg: return -x;
    case U::kReciprocal: return 1.0 / x;
    case U::kSqrt: return std::sqrt(x);
    case U::kExp: return std::exp(x);
    case U::kLog: return std::log(x);
    case U::kFloor: return std::floor(x);
    case U::kCeil: return std::ceil(x);
    case U::kRound: return std::nearbyint(x);  // default rounding mode: half to even
    case U::kSign: return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
    case U::kErf: return std::erf(x);
    case U::kSin: return std::sin(x);
    case U::kCos: return std::cos(x);
    case U::kTan: return std::tan(x);
    case U::kAsin: return std::asin(x);
    case U::kAcos: return std::acos(x);
    case U::kAtan: return std::atan(x);
    case U::kSinh: return std::sinh(x);
    case U::kCosh: return std::cosh(x);
    case U::kAsinh: return std::asinh(x);
    case U::kAcosh: return std::acosh(x);
    case U::kAtanh: return std::atanh(x);
    case U::kRelu: return x > 0 ? x : (std::isnan(x) ? x : 0.0);
    case U::kTanh: return std::tanh(x);
    case U::kLeakyRelu: return x < 0 ? p.alpha * x : x;
    case U::kThresholdedRelu: return x > p.alpha ? x : 0.0;
    case U::kElu: return x < 0 ? p.alpha * (std::exp(x) - 1) : x;
    case U::kSelu: return x > 0 ? p.gamma * x : p.gamma * (p.alpha * std::exp(x) - p.alpha);
    case U::kCelu: return std::max(0.0, x) + std::min(0.0, p.alpha * (std::exp(x / p.alpha) - 1));
    case U::kSigmoid: return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
    case U::kHardSigmoid: return std::max(0.0, std::min(1.0, p.alpha * x + p.beta));
    case U::kHardSwish: return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5));
    case U::kGelu:
      if (p.tanh_approx) {
        const double k = std::sqrt(2.0 / std::numbers::pi);
        return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
      }
      return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2));
    case U::kSoftplus: return Softplus(x);
    case U::kSoftsign: return x / (1.0 + std::fabs(x));
    case U::kMish: return x * std::tanh(Softplus(x));
    case U::kShrink: return x < -p.lambd ? x + p.bias : x > p.lambd ? x - p.bias : 0.0;
    default: return x;
  }
}

// Integer variants where ONNX allows integer inputs. Arithmetic through the unsigned type
// so that Neg/Abs of the minimum value wrap (as numpy does) instead of being UB.
template <typename T>
T ApplyInt(U op, T x, const UnaryParams& p) {
  using UT = std::make_unsigned_t<T>;
  switch (op) {
    case U::kAbs:
      if constexpr (std::is_signed_v<T>) return x < 0 ? static_cast<T>(UT(0) - static_cast<UT>(x)) : x;
      else return x;
    case U::kNeg: return static_cast<T>(UT(0) - static_cast<UT>(x));
    case U::kSign: return x > 0 ? T(1) : (x < 0 ? static_cast<T>(-1) : T(0));
    case U::kRelu: return x > 0 ? x : T(0);
    case U::kBitwiseNot: return static_cast<T>(~x);
    case U::kShrink: {
      double d = static_cast<double>(x);
      return FromD<T>(d < -p.lambd ? d + p.bias : d > p.lambd ? d - p.bias : 0.0);
    }
    default: return x;
  }
}

bool IntAllowed(U op, DType t) {
  switch (op) {
    case U::kAbs: case U::kNeg: case U::kSign: case U::kShrink: case U::kBitwiseNot: return true;
    case U::kRelu: return IsSignedDType(t);
    default: return false;
  }
}

struct UnaryEntry {
  std::string_view name;
  U op;
};
constexpr UnaryEntry kUnary[] = {
    {"Abs", U::kAbs}, {"Neg", U::kNeg}, {"Reciprocal", U::kReciprocal}, {"Sqrt", U::kSqrt}, {"Exp", U::kExp},
    {"Log", U::kLog}, {"Floor", U::kFloor}, {"Ceil", U::kCeil}, {"Round", U::kRound}, {"Sign", U::kSign},
    {"Erf", U::kErf}, {"Sin", U::kSin}, {"Cos", U::kCos}, {"Tan", U::kTan}, {"Asin", U::kAsin}, {"Acos", U::kAcos},
    {"Atan", U::kAtan}, {"Sinh", U::kSinh}, {"Cosh", U::kCosh}, {"Asinh", U::kAsinh}, {"Acosh", U::kAcosh},
    {"Atanh", U::kAtanh}, {"Relu", U::kRelu}, {"Tanh", U::kTanh}, {"LeakyRelu", U::kLeakyRelu},
    {"ThresholdedRelu", U::kThresholdedRelu}, {"Elu", U::kElu}, {"Selu", U::kSelu}, {"Celu", U::kCelu},
    {"Sigmoid", U::kSigmoid}, {"HardSigmoid", U::kHardSigmoid}, {"HardSwish", U::kHardSwish}, {"Gelu", U::kGelu},
    {"Softplus", U::kSoftplus}, {"Softsign", U::kSoftsign}, {"Mish", U::kMish}, {"Shrink", U::kShrink},
    {"BitwiseNot", U::kBitwiseNot}, {"Not", U::kNot}, {"IsNaN", U::kIsNaN}, {"IsInf", U::kIsInf},
};

U LookupOp(std::string_view name) {
  for (const auto& e : kUnary)
    if (e.name == name) return e.op;
  return U::kAbs;
}

Result<UnaryParams> ParseParams(const Node& n, U op) {
  UnaryParams p;
  switch (op) {
    case U::kLeakyRelu: p.alpha = n.GetFloat("alpha", 0.01f); break;
    case U::kThresholdedRelu: case U::kElu: case U::kCelu: p.alpha = n.GetFloat("alpha", 1.0f); break;
    case U::kSelu:
      p.alpha = n.GetFloat("alpha", 1.67326319217681884765625f);
      p.gamma = n.GetFloat("gamma", 1.05070102214813232421875f);
      break;
    case U::kHardSigmoid:
      p.alpha = n.GetFloat("alpha", 0.2f);
      p.beta = n.GetFloat("beta", 0.5f);
      break;
    case U::kShrink:
      p.lambd = n.GetFloat("lambd", 0.5f);
      p.bias = n.GetFloat("bias", 0.0f);
      break;
    case U::kGelu: {
      std::string a = n.GetString("approximate", "none");
      if (a != "none" && a != "tanh")
        return InvalidArgument("{}: approximate='{}' (expects 'none' or 'tanh')", n.Describe(), a);
      p.tanh_approx = a == "tanh";
      break;
    }
    case U::kIsInf:
      p.detect_neg = n.GetInt("detect_negative", 1) != 0;
      p.detect_pos = n.GetInt("detect_positive", 1) != 0;
      break;
    default: break;
  }
  if (op == U::kCelu && p.alpha == 0) return InvalidArgument("{}: alpha must be nonzero", n.Describe());
  return p;
}

Status RunUnary(U op, const UnaryParams& p, const Tensor& x, Tensor& y, const std::string& who) {
  const int64_t n = x.numel();
  if (op == U::kNot) {
    const bool* a = x.data<bool>();
    bool* o = y.data<bool>();
    for (int64_t i = 0; i < n; ++i) o[i] = !a[i];
    return Status::Ok();
  }
  if (op == U::kIsNaN || op == U::kIsInf) {
    bool* o = y.data<bool>();
    bool ok = DispatchFloat(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* a = x.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        double v = ToD(a[i]);
        o[i] = op == U::kIsNaN ? std::isnan(v) : (std::isinf(v) && ((v > 0 && p.detect_pos) || (v < 0 && p.detect_neg)));
      }
    });
    if (!ok) return InvalidArgument("{}: input type {} is not a float type", who, DTypeName(x.dtype()));
    return Status::Ok();
  }
  bool handled = DispatchFloat(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* a = x.data<T>();
    T* o = y.data<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = FromD<T>(ApplyFloat(op, ToD(a[i]), p));
  });
  if (handled && op != U::kBitwiseNot) return Status::Ok();
  handled = IntAllowed(op, x.dtype()) && DispatchInt(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* a = x.data<T>();
    T* o = y.data<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = ApplyInt<T>(op, a[i], p);
  });
  if (!handled)
    return InvalidArgument("{}: input type {} is not supported", who, DTypeName(x.dtype()));
  return Status::Ok();
}

bool TypeSupported(U op, DType t) {
  if (op == U::kNot) return t == DType::kBool;
  if (op == U::kBitwiseNot) return IsIntegerDType(t);
  if (IsFloatDType(t)) return true;
  return IsIntegerDType(t) && IntAllowed(op, t);
}

Result<std::unique_ptr<Kernel>> CreateUnary(const KernelInfo& info) {
  U op = LookupOp(info.node.op_type);
  DType t = InputDType(info, 0);
  if (t != DType::kUndefined && !TypeSupported(op, t))
    return Unimplemented("{}: no reference kernel for {} input", info.node.Describe(), DTypeName(t));
  GREENAI_ASSIGN_OR_RETURN(UnaryParams p, ParseParams(info.node, op));
  std::string who = info.node.Describe();
  return MakeLambdaKernel([op, p, who](KernelContext& ctx) -> Status {
    if (!TypeSupported(op, ctx.inputs[0]->dtype()))
      return InvalidArgument("{}: input type {} is not supported", who, DTypeName(ctx.inputs[0]->dtype()));
    return RunUnary(op, p, *ctx.inputs[0], *ctx.outputs[0], who);
  });
}

}  // namespace

void AddRefElementwiseKernels(std::vector<KernelDef>& defs) {
  for (const auto& e : kUnary) defs.push_back(KernelDef{e.name, "", "any_unary__ref", 0, CreateUnary});
  AddRefElementwiseBinaryKernels(defs);
  AddRefElementwiseCastKernels(defs);
}

}  // namespace greenai
