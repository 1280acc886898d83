// Reference kernels for layout ops: Pad, Resize, Upsample, CenterCropPad.
// Resize follows the ONNX reference implementation (onnx/backend/test/case/node/resize.py):
// separable taps per axis, evaluated axis 0 outermost, in double precision.
#include <cmath>
#include <type_traits>

#include "backends/cpu/kernel.h"
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::tensorops {

namespace {

template <typename F>
Result<std::unique_ptr<Kernel>> Make(F f) {
  return std::unique_ptr<Kernel>(MakePlannedOutputKernel(std::move(f)));
}

template <typename T>
double ToD(const T& v) {
  if constexpr (std::is_class_v<T>) return static_cast<float>(v);
  else return static_cast<double>(v);
}
template <typename T>
T FromD(double v) {
  if constexpr (std::is_same_v<T, bool>) return v != 0;
  else if constexpr (std::is_class_v<T>) return T(static_cast<float>(v));
  else return static_cast<T>(v);
}

// One-element tensor of dtype dt holding v (strings: empty).
Tensor ScalarOf(DType dt, double v) {
  Tensor t = Tensor::Create(dt, {}).value();
  GREENAI_DISPATCH_NUMERIC(dt, T, { t.data<T>()[0] = FromD<T>(v); });
  return t;
}

std::vector<double> ToDoubles(const Tensor* t) {
  std::vector<double> v;
  if (!t) return v;
  for (int64_t i = 0; i < t->numel(); ++i) v.push_back(t->GetAsDouble(i));
  return v;
}

// Source index along one axis for output coordinate o under a pad mode; -1 = constant.
int64_t PadSource(PadMode m, int64_t o, int64_t begin, int64_t n) {
  int64_t s = o - begin;
  if (s >= 0 && s < n) return s;
  switch (m) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return s < 0 ? 0 : n - 1;
    case PadMode::kWrap: return ((s % n) + n) % n;
    case PadMode::kReflect:
      if (n == 1) return 0;
      while (s < 0 || s >= n) s = s < 0 ? -s : 2 * (n - 1) - s;
      return s;
  }
  return -1;
}

Result<std::unique_ptr<Kernel>> PadFactory(const KernelInfo& info) {
  Node node = info.node;
  int64_t opset = info.opset;
  GREENAI_ASSIGN_OR_RETURN(PadMode mode, ParsePadMode(node));
  return Make([node, opset, mode](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    auto in = [&](size_t i) { return ctx.inputs.size() > i ? ctx.inputs[i] : nullptr; };
    std::vector<int64_t> pads;
    std::optional<std::vector<int64_t>> axes;
    Tensor cval;
    bool old = opset != 0 && opset < 11;
    if (old) {
      pads = node.GetInts(opset < 2 ? "paddings" : "pads");
      cval = ScalarOf(x.dtype(), node.GetFloat("value", 0.0f));
    } else {
      pads = TensorToInts(*in(1));
      if (in(3)) axes = TensorToInts(*in(3));
      cval = in(2) && in(2)->numel() > 0 ? *in(2) : ScalarOf(x.dtype(), 0.0);
    }
    GREENAI_ASSIGN_OR_RETURN(PadSpec s, ResolvePads(node, x.rank(), pads, axes));
    if (y.numel() == 0) return Status::Ok();
    int r = x.rank();
    if (r == 0) return y.CopyFrom(x);
    std::vector<std::vector<int64_t>> maps(static_cast<size_t>(r));
    for (int k = 0; k < r; ++k) {
      if (x.dim(k) == 0 && mode != PadMode::kConstant && y.dim(k) > 0)
        return InvalidArgument("{}: cannot pad empty axis {} in mode {}", node.Describe(), k, node.GetString("mode", ""));
      for (int64_t o = 0; o < y.dim(k); ++o)
        maps[static_cast<size_t>(k)].push_back(PadSource(mode, o, s.begin[static_cast<size_t>(k)], x.dim(k)));
    }
    auto xs = RowMajorStrides(x.shape());
    int64_t inner = y.dim(r - 1), rows = y.numel() / inner;
    const auto& last = maps.back();
    ParallelRows(ctx.pool, rows, RowGrain(inner, x.dtype()), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        int64_t rem = row, soff = 0;
        bool constant = false;
        for (int k = r - 2; k >= 0; --k) {
          int64_t i = rem % y.dim(k);
          rem /= y.dim(k);
          int64_t src = maps[static_cast<size_t>(k)][static_cast<size_t>(i)];
          if (src < 0) constant = true;
          else soff += src * xs[static_cast<size_t>(k)];
        }
        int64_t base = row * inner;
        for (int64_t j = 0; j < inner;) {
          int64_t src = constant ? -1 : last[static_cast<size_t>(j)];
          if (src < 0) {
            CopyElems(x.dtype(), y.raw(), base + j, cval.raw(), 0, 1);
            ++j;
            continue;
          }
          int64_t run = 1;
          while (j + run < inner && last[static_cast<size_t>(j + run)] == src + run) ++run;
          CopyElems(x.dtype(), y.raw(), base + j, x.raw(), soff + src, run);
          j += run;
        }
      }
    });
    return Status::Ok();
  });
}

struct Tap {
  int64_t idx;
  double w;
};

// Source coordinate of output coordinate x along one axis (ONNX reference semantics).
double SourceCoord(const ResizeAttrs& a, double x, int64_t in_len, int64_t out_len, double scale, double roi_s,
                   double roi_e) {
  double out_w = scale * static_cast<double>(in_len);
  auto in = static_cast<double>(in_len);
  switch (a.coord) {
    case CoordMode::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case CoordMode::kHalfPixelSymmetric: {
      double adj = static_cast<double>(out_len) / out_w;
      double center = in / 2;
      return center * (1 - adj) + (x + 0.5) / scale - 0.5;
    }
    case CoordMode::kPytorchHalfPixel: return out_len == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case CoordMode::kAlignCorners: return out_w == 1 ? 0.0 : x * (in - 1) / (out_w - 1);
    case CoordMode::kAsymmetric: return x / scale;
    case CoordMode::kTfHalfPixelForNn: return (x + 0.5) / scale;
    case CoordMode::kTfCropAndResize:
      return (out_w == 1 ? (roi_e - roi_s) * (in - 1) / 2 : x * (roi_e - roi_s) * (in - 1) / (out_w - 1)) +
             roi_s * (in - 1);
  }
  return x;
}

// Taps for every output coordinate of one axis; an empty list means "extrapolate".
std::vector<std::vector<Tap>> AxisTaps(const ResizeAttrs& a, int64_t in_len, int64_t out_len, double scale,
                                       double roi_s, double roi_e) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(out_len));
  auto clampi = [&](int64_t i) { return std::clamp<int64_t>(i, 0, in_len - 1); };
  for (int64_t o = 0; o < out_len; ++o) {
    auto& t = taps[static_cast<size_t>(o)];
    if (in_len == out_len && scale == 1.0 && a.coord != CoordMode::kTfCropAndResize) {
      t.push_back({o, 1.0});
      continue;
    }
    double x = SourceCoord(a, static_cast<double>(o), in_len, out_len, scale, roi_s, roi_e);
    if (a.coord == CoordMode::kTfCropAndResize && (x < 0 || x > static_cast<double>(in_len - 1))) continue;
    double fl = std::floor(x);
    bool integral = fl == x;
    auto x0 = static_cast<int64_t>(fl);
    double r = x - fl;
    if (a.mode == ResizeMode::kNearest) {
      int64_t i = x0;
      if (!integral) {
        switch (a.nearest) {
          case NearestMode::kRoundPreferFloor: i = r <= 0.5 ? x0 : x0 + 1; break;
          case NearestMode::kRoundPreferCeil: i = r < 0.5 ? x0 : x0 + 1; break;
          case NearestMode::kFloor: i = x0; break;
          case NearestMode::kCeil: i = x0 + 1; break;
          case NearestMode::kSimple: i = scale < 1 ? x0 + 1 : x0; break;
        }
      }
      t.push_back({clampi(i), 1.0});
    } else if (a.mode == ResizeMode::kLinear) {
      if (integral) {
        t.push_back({clampi(x0), 1.0});
      } else {
        t.push_back({clampi(x0), 1 - r});
        t.push_back({clampi(x0 + 1), r});
      }
    } else {
      if (integral) {
        x0 -= 1;
        r = 1.0;
      }
      double A = a.cubic_a;
      double c[4] = {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
                     ((A + 2) * r - (A + 3)) * r * r + 1,
                     ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
                     ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A};
      double sum = 0;
      for (int k = 0; k < 4; ++k) {
        int64_t i = x0 - 1 + k;
        if (a.exclude_outside && (i < 0 || i >= in_len)) c[k] = 0;
        sum += c[k];
      }
      for (int k = 0; k < 4; ++k) {
        double w = a.exclude_outside ? c[k] / sum : c[k];
        if (w != 0) t.push_back({clampi(x0 - 1 + k), w});
      }
    }
  }
  return taps;
}

Result<std::unique_ptr<Kernel>> ResizeFactory(const KernelInfo& info) {
  Node node = info.node;
  GREENAI_ASSIGN_OR_RETURN(ResizeAttrs a, ParseResizeAttrs(node, info.opset));
  DType dt = info.input_types[0].dtype;
  if (dt == DType::kString) return Unimplemented("{}: Resize of strings is not supported", node.Describe());
  if (a.mode != ResizeMode::kNearest && !IsFloatDType(dt))
    return Unimplemented("{}: {} interpolation of {} is not supported", node.Describe(),
                         a.mode == ResizeMode::kLinear ? "linear" : "cubic", DTypeName(dt));
  return Make([node, a](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    auto in = [&](int i) -> const Tensor* {
      if (i < 0 || static_cast<size_t>(i) >= ctx.inputs.size() || !ctx.inputs[static_cast<size_t>(i)]) return nullptr;
      const Tensor* t = ctx.inputs[static_cast<size_t>(i)];
      return t->numel() == 0 ? nullptr : t;
    };
    std::vector<double> scales = a.attr_scales;
    if (in(a.scales_input)) scales = ToDoubles(in(a.scales_input));
    std::vector<int64_t> sizes;
    if (in(a.sizes_input)) sizes = TensorToInts(*in(a.sizes_input));
    std::vector<double> roi;
    if (a.coord == CoordMode::kTfCropAndResize) roi = ToDoubles(in(a.roi_input));
    GREENAI_ASSIGN_OR_RETURN(ResizeSpec s, ResolveResize(node, a, x.shape(), scales, sizes, roi));
    if (y.numel() == 0) return Status::Ok();
    if (x.numel() == 0) return InvalidArgument("{}: cannot resize an empty input to a non-empty output", node.Describe());
    int r = x.rank();
    std::vector<std::vector<std::vector<Tap>>> taps;
    for (int k = 0; k < r; ++k) {
      auto u = static_cast<size_t>(k);
      taps.push_back(AxisTaps(a, x.dim(k), y.dim(k), s.scales[u], s.roi[u], s.roi[static_cast<size_t>(r) + u]));
    }
    auto xs = RowMajorStrides(x.shape());
    Tensor extrap = ScalarOf(x.dtype(), a.extrapolation);
    GREENAI_DISPATCH_NUMERIC(x.dtype(), T, {
      const T* xp = x.data<T>();
      T* yp = y.data<T>();
      int64_t inner = y.dim(r - 1), rows = y.numel() / inner;
      ParallelRows(ctx.pool, rows, RowGrain(inner * 4, x.dtype()), [&](int64_t b, int64_t e) {
        std::vector<const std::vector<Tap>*> cur(static_cast<size_t>(r));
        // Weighted sum over the tap product, axis 0 outermost (matches the reference's order).
        auto acc = [&](auto&& self, int k, int64_t off) -> double {
          if (k == r) return ToD(xp[off]);
          double sum = 0;
          for (const Tap& t : *cur[static_cast<size_t>(k)])
            sum += t.w * self(self, k + 1, off + t.idx * xs[static_cast<size_t>(k)]);
          return sum;
        };
        for (int64_t row = b; row < e; ++row) {
          int64_t rem = row;
          bool outside = false;
          for (int k = r - 2; k >= 0; --k) {
            int64_t i = rem % y.dim(k);
            rem /= y.dim(k);
            cur[static_cast<size_t>(k)] = &taps[static_cast<size_t>(k)][static_cast<size_t>(i)];
            outside |= cur[static_cast<size_t>(k)]->empty();
          }
          for (int64_t j = 0; j < inner; ++j) {
            cur[static_cast<size_t>(r) - 1] = &taps[static_cast<size_t>(r) - 1][static_cast<size_t>(j)];
            T& dst = yp[row * inner + j];
            if (outside || cur[static_cast<size_t>(r) - 1]->empty()) {
              dst = extrap.data<T>()[0];
            } else if (a.mode == ResizeMode::kNearest) {
              int64_t off = 0;
              for (int k = 0; k < r; ++k) off += (*cur[static_cast<size_t>(k)])[0].idx * xs[static_cast<size_t>(k)];
              dst = xp[off];
            } else {
              dst = FromD<T>(acc(acc, 0, 0));
            }
          }
        }
      });
    });
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CenterCropPadFactory(const KernelInfo&) {
  return Make([](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    int r = x.rank();
    if (x.dtype() == DType::kString) std::fill_n(y.data<std::string>(), y.numel(), std::string());
    else std::memset(y.raw(), 0, y.nbytes());
    if (r == 0) return y.CopyFrom(x);
    // Copy box: per axis source start, destination start and length.
    std::vector<int64_t> ss(static_cast<size_t>(r)), ds(static_cast<size_t>(r)), len(static_cast<size_t>(r));
    for (int k = 0; k < r; ++k) {
      auto u = static_cast<size_t>(k);
      int64_t i = x.dim(k), o = y.dim(k);
      ss[u] = i > o ? (i - o) / 2 : 0;
      ds[u] = o > i ? (o - i) / 2 : 0;
      len[u] = std::min(i, o);
    }
    int64_t box = 1;
    for (int64_t l : len) box *= l;
    if (box == 0) return Status::Ok();
    auto xs = RowMajorStrides(x.shape()), ys = RowMajorStrides(y.shape());
    int64_t rows = box / len.back();
    for (int64_t row = 0; row < rows; ++row) {
      int64_t rem = row, so = ss.back(), dof = ds.back();
      for (int k = r - 2; k >= 0; --k) {
        auto u = static_cast<size_t>(k);
        int64_t i = rem % len[u];
        rem /= len[u];
        so += (ss[u] + i) * xs[u];
        dof += (ds[u] + i) * ys[u];
      }
      CopyElems(x.dtype(), y.raw(), dof, x.raw(), so, len.back());
    }
    return Status::Ok();
  });
}

}  // namespace

void AddRefLayoutKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Pad", "", "any_pad__ref", 0, PadFactory});
  defs.push_back({"Resize", "", "any_resize__ref", 0, ResizeFactory});
  defs.push_back({"Upsample", "", "any_upsample__ref", 0, ResizeFactory});
  defs.push_back({"CenterCropPad", "", "any_centercroppad__ref", 0, CenterCropPadFactory});
}

}  // namespace greenai::tensorops
