// Reference kernels: Cast and CastLike between every pair of supported types, including
// string <-> number as numpy prints and parses them ("nan", "inf", shortest round-trip
// digits; parsing accepts "NaN", "INF", "+INF", "-inf", ...). The 'saturate' attribute
// only affects float8 types, which greenai does not support, so it is ignored.
// Float -> integer: NaN gives 0 and out-of-range values saturate (C++ leaves both UB).
// See backends/cpu/kernel.h for the contract.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "backends/cpu/ref_elementwise_internal.h"
#include "ops/elementwise_internal.h"

namespace greenai {
namespace {

using namespace ew;

template <typename T>
std::string NumberToString(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr (kIsFloat<T>) {
    double d = ToD(v);
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[64];
    std::to_chars_result r;
    if constexpr (std::is_same_v<T, double>) r = std::to_chars(buf, buf + sizeof(buf), d);
    else r = std::to_chars(buf, buf + sizeof(buf), static_cast<float>(d));
    return std::string(buf, r.ptr);
  } else {
    return std::to_string(v);
  }
}

// Parses a numpy-style number; false when `s` is not a number.
template <typename T>
bool StringToNumber(const std::string& s, T* out) {
  const char* b = s.c_str();
  char* end = nullptr;
  if constexpr (std::is_same_v<T, bool>) {
    if (s == "True" || s == "true" || s == "1") { *out = true; return true; }
    if (s == "False" || s == "false" || s == "0" || s.empty()) { *out = false; return true; }
    return false;
  } else if constexpr (kIsFloat<T>) {
    double d = std::strtod(b, &end);
    if (end == b) return false;
    *out = FromD<T>(d);
  } else if constexpr (std::is_signed_v<T>) {
    long long v = std::strtoll(b, &end, 10);
    if (end == b) {  // "1.5" style: fall back to float parsing, as numpy's int(float(s)) would not, but ORT does
      double d = std::strtod(b, &end);
      if (end == b) return false;
      *out = FromD<T>(d);
      return true;
    }
    *out = static_cast<T>(v);
  } else {
    unsigned long long v = std::strtoull(b, &end, 10);
    if (end == b) return false;
    *out = static_cast<T>(v);
  }
  return true;
}

template <typename S, typename D>
D ConvertNumber(S v) {
  if constexpr (std::is_same_v<S, D>) {
    return v;
  } else if constexpr (std::is_same_v<D, bool>) {
    if constexpr (kIsFloat<S>) return ToD(v) != 0;  // NaN is truthy, as in numpy
    else return v != 0;
  } else if constexpr (kIsInt<S> && kIsInt<D>) {
    return static_cast<D>(v);  // two's-complement wrap, like numpy
  } else if constexpr (std::is_same_v<S, bool>) {
    return FromD<D>(v ? 1.0 : 0.0);
  } else if constexpr (std::is_same_v<D, float> && std::is_same_v<S, double>) {
    return static_cast<float>(v);
  } else if constexpr (kIsInt<S> && std::is_same_v<D, double>) {
    return static_cast<double>(v);
  } else if constexpr (kIsInt<S> && std::is_same_v<D, float>) {
    return static_cast<float>(v);
  } else {
    return FromD<D>(ToD(v));
  }
}

Status RunCast(const Tensor& x, Tensor& y, const std::string& who) {
  const DType from = x.dtype(), to = y.dtype();
  const int64_t n = x.numel();
  if (from == DType::kString && to == DType::kString) return y.CopyFrom(x);
  if (to == DType::kString) {
    std::string* o = y.data<std::string>();
    bool ok = DispatchNumberBool(from, [&](auto tag) {
      using S = typename decltype(tag)::type;
      const S* p = x.data<S>();
      for (int64_t i = 0; i < n; ++i) o[i] = NumberToString(p[i]);
    });
    if (!ok) return InvalidArgument("{}: cannot cast {} to string", who, DTypeName(from));
    return Status::Ok();
  }
  if (from == DType::kString) {
    const std::string* p = x.data<std::string>();
    Status st;
    bool ok = DispatchNumberBool(to, [&](auto tag) {
      using D = typename decltype(tag)::type;
      D* o = y.data<D>();
      for (int64_t i = 0; i < n && st.ok(); ++i)
        if (!StringToNumber(p[i], &o[i]))
          st = InvalidArgument("{}: string '{}' at index {} is not a number", who, p[i], i);
    });
    if (!ok) return InvalidArgument("{}: cannot cast string to {}", who, DTypeName(to));
    return st;
  }
  bool inner = false;
  bool ok = DispatchNumberBool(from, [&](auto stag) {
    using S = typename decltype(stag)::type;
    inner = DispatchNumberBool(to, [&](auto dtag) {
      using D = typename decltype(dtag)::type;
      const S* p = x.data<S>();
      D* o = y.data<D>();
      for (int64_t i = 0; i < n; ++i) o[i] = ConvertNumber<S, D>(p[i]);
    });
  }) && inner;
  if (!ok) return InvalidArgument("{}: cannot cast {} to {}", who, DTypeName(from), DTypeName(to));
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateCast(const KernelInfo& info) {
  std::string who = info.node.Describe();
  if (info.node.op_type == "Cast") GREENAI_RETURN_IF_ERROR(CastTarget(info.node).status());
  return MakeLambdaKernel(
      [who](KernelContext& ctx) -> Status { return RunCast(*ctx.inputs[0], *ctx.outputs[0], who); });
}

}  // namespace

void AddRefElementwiseCastKernels(std::vector<KernelDef>& defs) {
  defs.push_back(KernelDef{"Cast", "", "any_cast__ref", 0, CreateCast});
  defs.push_back(KernelDef{"CastLike", "", "any_cast__ref", 0, CreateCast});
}

}  // namespace greenai
