// Reference kernels: broadcasting binary ops (arithmetic, Pow, Mod, BitShift, bitwise,
// logical, comparisons, PRelu), variadic Sum/Mean/Min/Max, Where and Clip.
// Float types compute in double and round once; integer arithmetic wraps like numpy
// (through the unsigned type); integer division or modulo by zero is an error, never a
// trap. See backends/cpu/kernel.h for the contract.
#include <cmath>
#include <string>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/ref_elementwise_internal.h"

namespace greenai {
namespace {

using namespace ew;

// out[i] = f(a[.], b[.]) with numpy broadcasting.
template <typename TA, typename TB, typename TO, typename F>
Status BinaryLoop(const Tensor& a, const Tensor& b, Tensor& o, const std::string& who, F&& f) {
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = o.data<TO>();
  if (a.shape() == o.shape() && b.shape() == o.shape()) {
    for (int64_t i = 0; i < o.numel(); ++i) po[i] = f(pa[i], pb[i]);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(BroadcastPlan plan, MakeBroadcastPlan(o.shape(), {a.shape(), b.shape()}, who));
  ForEachBroadcast(plan, [&](int64_t i, const int64_t* off) { po[i] = f(pa[off[0]], pb[off[1]]); });
  return Status::Ok();
}

enum class B {
  kAdd, kSub, kMul, kDiv, kPow, kMod, kBitShift, kBitAnd, kBitOr, kBitXor, kAnd, kOr, kXor,
  kEqual, kLess, kLessEq, kGreater, kGreaterEq, kPRelu
};

struct BinaryEntry {
  std::string_view name;
  B op;
};
constexpr BinaryEntry kBinary[] = {
    {"Add", B::kAdd}, {"Sub", B::kSub}, {"Mul", B::kMul}, {"Div", B::kDiv}, {"Pow", B::kPow}, {"Mod", B::kMod},
    {"BitShift", B::kBitShift}, {"BitwiseAnd", B::kBitAnd}, {"BitwiseOr", B::kBitOr}, {"BitwiseXor", B::kBitXor},
    {"And", B::kAnd}, {"Or", B::kOr}, {"Xor", B::kXor}, {"Equal", B::kEqual}, {"Less", B::kLess},
    {"LessOrEqual", B::kLessEq}, {"Greater", B::kGreater}, {"GreaterOrEqual", B::kGreaterEq}, {"PRelu", B::kPRelu},
};

B LookupBinary(std::string_view n) {
  for (const auto& e : kBinary)
    if (e.name == n) return e.op;
  return B::kAdd;
}

// Integer +,-,*,/ with numpy wrap-around; `div0` is set on division by zero.
template <typename T>
T IntArith(B op, T a, T b, bool* div0) {
  using UT = std::make_unsigned_t<T>;
  switch (op) {
    case B::kAdd: return static_cast<T>(static_cast<UT>(a) + static_cast<UT>(b));
    case B::kSub: return static_cast<T>(static_cast<UT>(a) - static_cast<UT>(b));
    case B::kMul: return static_cast<T>(static_cast<UT>(a) * static_cast<UT>(b));
    case B::kDiv:
      if (b == 0) {
        *div0 = true;
        return 0;
      }
      if constexpr (std::is_signed_v<T>)
        if (b == -1) return static_cast<T>(UT(0) - static_cast<UT>(a));
      return static_cast<T>(a / b);
    default: return 0;
  }
}

// Mod: fmod=1 is C fmod/% (sign of dividend); fmod=0 is Python % (sign of divisor).
template <typename T>
T IntMod(T a, T b, bool fmod, bool* div0) {
  if (b == 0) {
    *div0 = true;
    return 0;
  }
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;
    T r = static_cast<T>(a % b);
    if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    return r;
  } else {
    (void)fmod;
    return static_cast<T>(a % b);
  }
}
double FloatMod(double a, double b, bool fmod) {
  double r = std::fmod(a, b);
  if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Exact integer power by squaring (wraps on overflow); negative exponents follow
// truncation of the real result (1 for base 1, +-1 for base -1, else 0).
template <typename T, typename E>
T IntPow(T base, E e) {
  using UT = std::make_unsigned_t<T>;
  if constexpr (std::is_signed_v<E>) {
    if (e < 0) {
      if (base == 1) return 1;
      if constexpr (std::is_signed_v<T>)
        if (base == -1) return (e % 2) ? T(-1) : T(1);
      return 0;
    }
  }
  UT r = 1, b = static_cast<UT>(base);
  auto ue = static_cast<std::make_unsigned_t<E>>(e);
  while (ue) {
    if (ue & 1) r = static_cast<UT>(r * b);
    b = static_cast<UT>(b * b);
    ue >>= 1;
  }
  return static_cast<T>(r);
}

template <typename T>
bool Compare(B op, const T& a, const T& b) {
  switch (op) {
    case B::kEqual: return a == b;
    case B::kLess: return a < b;
    case B::kLessEq: return a <= b;
    case B::kGreater: return a > b;
    case B::kGreaterEq: return a >= b;
    default: return false;
  }
}

Status RunBinary(B op, bool fmod, bool shift_left, const Tensor& a, const Tensor& b, Tensor& o,
                 const std::string& who) {
  Status st;
  bool div0 = false;
  bool handled = false;
  const DType t = a.dtype();
  auto unsupported = [&] {
    return InvalidArgument("{}: input types {} and {} are not supported", who, DTypeName(t), DTypeName(b.dtype()));
  };
  switch (op) {
    case B::kAdd: case B::kSub: case B::kMul: case B::kDiv:
      handled = DispatchFloat(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, T>(a, b, o, who, [op](T x, T y) {
          double u = ToD(x), v = ToD(y);
          return FromD<T>(op == B::kAdd ? u + v : op == B::kSub ? u - v : op == B::kMul ? u * v : u / v);
        });
      }) || DispatchInt(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, T>(a, b, o, who, [op, &div0](T x, T y) { return IntArith<T>(op, x, y, &div0); });
      });
      break;
    case B::kPRelu:
      handled = DispatchNumber(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, T>(a, b, o, who, [](T x, T s) {
          if constexpr (kIsFloat<T>) return ToD(x) < 0 ? FromD<T>(ToD(x) * ToD(s)) : x;
          else return x < 0 ? static_cast<T>(x * s) : x;
        });
      });
      break;
    case B::kMod:
      handled = DispatchFloat(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, T>(a, b, o, who, [fmod](T x, T y) { return FromD<T>(FloatMod(ToD(x), ToD(y), fmod)); });
      }) || DispatchInt(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, T>(a, b, o, who, [fmod, &div0](T x, T y) { return IntMod<T>(x, y, fmod, &div0); });
      });
      break;
    case B::kPow: {
      bool inner = false;
      handled = DispatchNumber(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        inner = DispatchNumber(b.dtype(), [&](auto etag) {
          using E = typename decltype(etag)::type;
          st = BinaryLoop<T, E, T>(a, b, o, who, [](T x, E y) {
            if constexpr (kIsInt<T> && kIsInt<E>) return IntPow<T, E>(x, y);
            else return FromD<T>(std::pow(ToD(x), ToD(y)));
          });
        });
      }) && inner;
      break;
    }
    case B::kBitShift:
      handled = DispatchInt(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_unsigned_v<T>) {
          constexpr T kBits = sizeof(T) * 8;
          st = BinaryLoop<T, T, T>(a, b, o, who, [shift_left, kBits](T x, T s) {
            if (s >= kBits) return T(0);
            return shift_left ? static_cast<T>(x << s) : static_cast<T>(x >> s);
          });
        } else {
          st = unsupported();
        }
      });
      break;
    case B::kBitAnd: case B::kBitOr: case B::kBitXor:
      handled = DispatchInt(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, T>(a, b, o, who, [op](T x, T y) {
          return static_cast<T>(op == B::kBitAnd ? (x & y) : op == B::kBitOr ? (x | y) : (x ^ y));
        });
      });
      break;
    case B::kAnd: case B::kOr: case B::kXor:
      handled = t == DType::kBool;
      if (handled)
        st = BinaryLoop<bool, bool, bool>(a, b, o, who, [op](bool x, bool y) {
          return op == B::kAnd ? (x && y) : op == B::kOr ? (x || y) : (x != y);
        });
      break;
    default:  // comparisons
      if (t == DType::kString && op == B::kEqual) {
        handled = true;
        st = BinaryLoop<std::string, std::string, bool>(a, b, o, who,
                                                        [](const std::string& x, const std::string& y) { return x == y; });
        break;
      }
      handled = DispatchFloat(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, bool>(a, b, o, who, [op](T x, T y) { return Compare(op, ToD(x), ToD(y)); });
      }) || DispatchInt(t, [&](auto tag) {
        using T = typename decltype(tag)::type;
        st = BinaryLoop<T, T, bool>(a, b, o, who, [op](T x, T y) { return Compare(op, x, y); });
      });
      if (!handled && t == DType::kBool) {
        handled = true;
        st = BinaryLoop<bool, bool, bool>(a, b, o, who, [op](bool x, bool y) { return Compare(op, x, y); });
      }
      break;
  }
  if (!handled) return unsupported();
  GREENAI_RETURN_IF_ERROR(st);
  if (div0) return InvalidArgument("{}: integer division by zero", who);
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateBinary(const KernelInfo& info) {
  B op = LookupBinary(info.node.op_type);
  bool fmod = info.node.GetInt("fmod", 0) != 0;
  bool left = true;
  if (op == B::kBitShift) {
    std::string d = info.node.GetString("direction", "");
    if (d != "LEFT" && d != "RIGHT")
      return InvalidArgument("{}: direction='{}' (expects LEFT or RIGHT)", info.node.Describe(), d);
    left = d == "LEFT";
  }
  if (op == B::kMod && !fmod && IsFloatDType(InputDType(info, 0)))
    return InvalidArgument("{}: fmod must be 1 for float inputs", info.node.Describe());
  std::string who = info.node.Describe();
  const bool legacy_prelu = op == B::kPRelu && info.opset != 0 && info.opset < 7;
  return MakeLambdaKernel([op, fmod, left, who, legacy_prelu](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor slope = *ctx.inputs[1];
    // Opset < 7 PRelu: a 1-D slope of size C is per channel (axis 1), not trailing-aligned.
    if (legacy_prelu && x.rank() > 2 && slope.rank() == 1 && slope.numel() == x.dim(1) && slope.numel() > 1) {
      Shape s(static_cast<size_t>(x.rank() - 1), 1);
      s[0] = slope.numel();
      slope = slope.Reshaped(s);
    }
    return RunBinary(op, fmod, left, x, slope, *ctx.outputs[0], who);
  });
}

// ---- Variadic Sum / Mean / Min / Max ----

enum class V { kSum, kMean, kMin, kMax };

Status RunVariadic(V op, const std::vector<const Tensor*>& ins, Tensor& o, const std::string& who) {
  std::vector<Shape> shapes;
  std::vector<const Tensor*> xs;
  for (const Tensor* t : ins)
    if (t) {
      xs.push_back(t);
      shapes.push_back(t->shape());
    }
  GREENAI_ASSIGN_OR_RETURN(BroadcastPlan plan, MakeBroadcastPlan(o.shape(), shapes, who));
  const size_t n = xs.size();
  bool handled = DispatchNumber(o.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* po = o.data<T>();
    std::vector<const T*> p(n);
    for (size_t k = 0; k < n; ++k) p[k] = xs[k]->data<T>();
    ForEachBroadcast(plan, [&](int64_t i, const int64_t* off) {
      if constexpr (kIsFloat<T>) {
        double acc = ToD(p[0][off[0]]);
        for (size_t k = 1; k < n; ++k) {
          double v = ToD(p[k][off[k]]);
          if (op == V::kSum || op == V::kMean) acc += v;
          else if (std::isnan(v) || std::isnan(acc)) acc = std::nan("");  // numpy propagates NaN
          else acc = op == V::kMin ? std::min(acc, v) : std::max(acc, v);
        }
        po[i] = FromD<T>(op == V::kMean ? acc / static_cast<double>(n) : acc);
      } else {
        using UT = std::make_unsigned_t<T>;
        T acc = p[0][off[0]];
        for (size_t k = 1; k < n; ++k) {
          T v = p[k][off[k]];
          if (op == V::kSum || op == V::kMean) acc = static_cast<T>(static_cast<UT>(acc) + static_cast<UT>(v));
          else acc = op == V::kMin ? std::min(acc, v) : std::max(acc, v);
        }
        po[i] = op == V::kMean ? static_cast<T>(acc / static_cast<T>(n)) : acc;
      }
    });
  });
  if (!handled) return InvalidArgument("{}: input type {} is not supported", who, DTypeName(o.dtype()));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateVariadic(const KernelInfo& info) {
  const std::string& n = info.node.op_type;
  V op = n == "Sum" ? V::kSum : n == "Mean" ? V::kMean : n == "Min" ? V::kMin : V::kMax;
  std::string who = info.node.Describe();
  return MakeLambdaKernel(
      [op, who](KernelContext& ctx) -> Status { return RunVariadic(op, ctx.inputs, *ctx.outputs[0], who); });
}

// ---- Where ----

Result<std::unique_ptr<Kernel>> CreateWhere(const KernelInfo& info) {
  std::string who = info.node.Describe();
  return MakeLambdaKernel([who](KernelContext& ctx) -> Status {
    const Tensor& c = *ctx.inputs[0];
    const Tensor& x = *ctx.inputs[1];
    const Tensor& y = *ctx.inputs[2];
    Tensor& o = *ctx.outputs[0];
    GREENAI_ASSIGN_OR_RETURN(BroadcastPlan plan, MakeBroadcastPlan(o.shape(), {c.shape(), x.shape(), y.shape()}, who));
    bool handled = DispatchAny(o.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const bool* pc = c.data<bool>();
      const T* px = x.data<T>();
      const T* py = y.data<T>();
      T* po = o.data<T>();
      ForEachBroadcast(plan, [&](int64_t i, const int64_t* off) { po[i] = pc[off[0]] ? px[off[1]] : py[off[2]]; });
    });
    if (!handled) return InvalidArgument("{}: type {} is not supported", who, DTypeName(o.dtype()));
    return Status::Ok();
  });
}

// ---- Clip: bounds are attributes before opset 11, optional scalar inputs after ----

Result<std::unique_ptr<Kernel>> CreateClip(const KernelInfo& info) {
  std::string who = info.node.Describe();
  bool attrs = info.opset != 0 && info.opset < 11;
  double amin = info.node.GetFloat("min", -std::numeric_limits<float>::infinity());
  double amax = info.node.GetFloat("max", std::numeric_limits<float>::infinity());
  return MakeLambdaKernel([who, attrs, amin, amax](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& o = *ctx.outputs[0];
    for (size_t i = 1; i < ctx.inputs.size(); ++i)
      if (ctx.inputs[i] && ctx.inputs[i]->numel() != 1)
        return InvalidArgument("{}: bound input {} has {} elements (expects a scalar)", who, i, ctx.inputs[i]->numel());
    const Tensor* tmin = !attrs && ctx.inputs.size() > 1 ? ctx.inputs[1] : nullptr;
    const Tensor* tmax = !attrs && ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    bool handled = DispatchNumber(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* px = x.data<T>();
      T* po = o.data<T>();
      if constexpr (kIsFloat<T>) {
        double lo = tmin ? ToD(tmin->data<T>()[0]) : (attrs ? amin : -INFINITY);
        double hi = tmax ? ToD(tmax->data<T>()[0]) : (attrs ? amax : INFINITY);
        for (int64_t i = 0; i < x.numel(); ++i) {
          double v = ToD(px[i]);
          po[i] = std::isnan(v) ? px[i] : FromD<T>(std::min(std::max(v, lo), hi));
        }
      } else {
        T lo = tmin ? tmin->data<T>()[0] : std::numeric_limits<T>::lowest();
        T hi = tmax ? tmax->data<T>()[0] : std::numeric_limits<T>::max();
        for (int64_t i = 0; i < x.numel(); ++i) po[i] = std::min(std::max(px[i], lo), hi);
      }
    });
    if (!handled) return InvalidArgument("{}: type {} is not supported", who, DTypeName(x.dtype()));
    return Status::Ok();
  });
}

}  // namespace

void AddRefElementwiseBinaryKernels(std::vector<KernelDef>& defs) {
  for (const auto& e : kBinary) defs.push_back(KernelDef{e.name, "", "any_binary__ref", 0, CreateBinary});
  for (auto n : {"Sum", "Mean", "Min", "Max"}) defs.push_back(KernelDef{n, "", "any_variadic__ref", 0, CreateVariadic});
  defs.push_back(KernelDef{"Where", "", "any_where__ref", 0, CreateWhere});
  defs.push_back(KernelDef{"Clip", "", "any_clip__ref", 0, CreateClip});
}

}  // namespace greenai
