// Window functions and DFT (computed in double) and RoiAlign (ONNX Runtime's sampling scheme).
#include <algorithm>
#include <cmath>
#include <numbers>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"

namespace greenai::misck {
namespace {

// w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic) or size - 1.
template <int kWhich>
Result<std::unique_ptr<Kernel>> MakeWindow(const KernelInfo& info) {
  const bool periodic = info.node.GetInt("periodic", 1) != 0;
  return std::unique_ptr<Kernel>(MakeLambdaKernel([periodic](KernelContext& ctx) -> Status {
    Tensor& y = *ctx.outputs[0];
    const int64_t size = y.numel();
    const double N = static_cast<double>(periodic ? size : size - 1);
    const double a0 = kWhich == 0 ? 0.5 : kWhich == 1 ? 25.0 / 46.0 : 0.42;
    const double a1 = kWhich == 0 ? 0.5 : kWhich == 1 ? 21.0 / 46.0 : 0.5;
    const double a2 = kWhich == 2 ? 0.08 : 0.0;
    for (int64_t i = 0; i < size; ++i) {
      const double t = N > 0 ? 2 * std::numbers::pi * static_cast<double>(i) / N : 0.0;
      const double w = a0 - a1 * std::cos(t) + a2 * std::cos(2 * t);
      if (y.dtype() == DType::kF64) y.data<double>()[i] = w;
      else y.data<float>()[i] = static_cast<float>(w);
    }
    return Status::Ok();
  }));
}

Status RunRoiAlign(const Node& node, int64_t opset, KernelContext& ctx) {
  const Tensor& X = *ctx.inputs[0];
  const Tensor& rois = *ctx.inputs[1];
  const Tensor& bidx = *ctx.inputs[2];
  Tensor& Y = *ctx.outputs[0];
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), W = X.dim(3);
  const int64_t R = rois.dim(0), oh = Y.dim(2), ow = Y.dim(3);
  const bool is_max = node.GetString("mode", "avg") == "max";
  const float scale = node.GetFloat("spatial_scale", 1.f);
  const int64_t sr = node.GetInt("sampling_ratio", 0);
  const std::string ctm = node.GetString("coordinate_transformation_mode", opset >= 16 ? "half_pixel" : "output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    return InvalidArgument("{}: coordinate_transformation_mode '{}' is not half_pixel or output_half_pixel",
                           node.Describe(), ctm);
  const bool half = ctm == "half_pixel";
  for (int64_t r = 0; r < R; ++r) {
    const int64_t b = bidx.data<int64_t>()[r];
    if (b < 0 || b >= N)
      return InvalidArgument("{}: batch_indices[{}] is {}, expects 0..{}", node.Describe(), r, b, N - 1);
    const float* roi = rois.data<float>() + r * 4;
    const float off = half ? 0.5f : 0.f;
    const float x0 = roi[0] * scale - off, y0 = roi[1] * scale - off;
    float rw = roi[2] * scale - off - x0, rh = roi[3] * scale - off - y0;
    if (!half) {
      rw = std::max(rw, 1.f);
      rh = std::max(rh, 1.f);
    }
    const float bh = rh / static_cast<float>(oh), bw = rw / static_cast<float>(ow);
    const int64_t gh = sr > 0 ? sr : static_cast<int64_t>(std::ceil(rh / static_cast<float>(oh)));
    const int64_t gw = sr > 0 ? sr : static_cast<int64_t>(std::ceil(rw / static_cast<float>(ow)));
    const float count = static_cast<float>(std::max<int64_t>(gh * gw, 1));
    for (int64_t c = 0; c < C; ++c) {
      const float* img = X.data<float>() + (b * C + c) * H * W;
      for (int64_t py = 0; py < oh; ++py)
        for (int64_t px = 0; px < ow; ++px) {
          float acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy)
            for (int64_t ix = 0; ix < gw; ++ix) {
              float y = y0 + static_cast<float>(py) * bh + (static_cast<float>(iy) + 0.5f) * bh / static_cast<float>(gh);
              float x = x0 + static_cast<float>(px) * bw + (static_cast<float>(ix) + 0.5f) * bw / static_cast<float>(gw);
              float v = 0;
              if (!(y < -1.f || y > static_cast<float>(H) || x < -1.f || x > static_cast<float>(W))) {
                y = std::max(y, 0.f);
                x = std::max(x, 0.f);
                int64_t yl = static_cast<int64_t>(y), xl = static_cast<int64_t>(x), yh, xh;
                if (yl >= H - 1) { yh = yl = H - 1; y = static_cast<float>(yl); } else yh = yl + 1;
                if (xl >= W - 1) { xh = xl = W - 1; x = static_cast<float>(xl); } else xh = xl + 1;
                const float ly = y - static_cast<float>(yl), lx = x - static_cast<float>(xl), hy = 1 - ly, hx = 1 - lx;
                const float t1 = hy * hx * img[yl * W + xl], t2 = hy * lx * img[yl * W + xh],
                            t3 = ly * hx * img[yh * W + xl], t4 = ly * lx * img[yh * W + xh];
                // Max mode takes the largest weighted corner, as ONNX Runtime does.
                v = is_max ? std::max({t1, t2, t3, t4}) : t1 + t2 + t3 + t4;
              }
              if (is_max) acc = first ? v : std::max(acc, v);
              else acc += v;
              first = false;
            }
          Y.data<float>()[((r * C + c) * oh + py) * ow + px] = is_max ? acc : acc / count;
        }
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> MakeRoiAlign(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(MakeLambdaKernel(
      [node = info.node, opset = info.opset](KernelContext& ctx) -> Status { return RunRoiAlign(node, opset, ctx); }));
}

// Direct O(n^2) DFT along `axis` in double: X[k] = sum_n x[n] e^(-/+ 2 pi i k n / L), times
// 1/L when inverse; an input longer than dft_length L is truncated, a shorter one zero-padded.
template <typename T>
void Dft(const Tensor& x, Tensor& y, int64_t axis, int64_t L, bool inverse) {
  const int64_t in_c = x.dim(-1), n_in = std::min(L, x.dim(static_cast<int>(axis)));
  const int64_t n_out = y.dim(static_cast<int>(axis)), x_axis = x.dim(static_cast<int>(axis));
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= x.dim(a);
  for (int a = static_cast<int>(axis) + 1; a < x.rank() - 1; ++a) inner *= x.dim(a);
  const double sign = inverse ? 1.0 : -1.0, scale = inverse ? 1.0 / static_cast<double>(L) : 1.0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t k = 0; k < n_out; ++k) {
        double re = 0, im = 0;
        for (int64_t t = 0; t < n_in; ++t) {
          const T* p = x.data<T>() + ((o * x_axis + t) * inner + i) * in_c;
          const double xr = static_cast<double>(p[0]), xi = in_c == 2 ? static_cast<double>(p[1]) : 0.0;
          const double ang = sign * 2 * std::numbers::pi * static_cast<double>((k * t) % L) / static_cast<double>(L);
          const double c = std::cos(ang), s = std::sin(ang);
          re += xr * c - xi * s;
          im += xr * s + xi * c;
        }
        T* q = y.data<T>() + ((o * n_out + k) * inner + i) * 2;
        q[0] = static_cast<T>(re * scale);
        q[1] = static_cast<T>(im * scale);
      }
}

Result<std::unique_ptr<Kernel>> MakeDft(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(MakeLambdaKernel([node = info.node](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.inputs[0];
    int64_t axis = node.GetInt("axis", 1);
    if (axis < 0) axis += x.rank();
    const Tensor* len_t = ctx.inputs.size() > 1 ? ctx.inputs[1] : nullptr;
    const int64_t L = len_t ? static_cast<int64_t>(len_t->GetAsDouble(0)) : x.dim(static_cast<int>(axis));
    if (L < 1) return InvalidArgument("{}: dft_length is {}, expects >= 1", node.Describe(), L);
    const bool inverse = node.GetInt("inverse", 0) != 0;
    if (x.dtype() == DType::kF64) Dft<double>(x, *ctx.outputs[0], axis, L, inverse);
    else Dft<float>(x, *ctx.outputs[0], axis, L, inverse);
    return Status::Ok();
  }));
}

}  // namespace

void AddSignalKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"HannWindow", "", "f32_hannwindow__ref", 0, MakeWindow<0>});
  defs.push_back({"HammingWindow", "", "f32_hammingwindow__ref", 0, MakeWindow<1>});
  defs.push_back({"BlackmanWindow", "", "f32_blackmanwindow__ref", 0, MakeWindow<2>});
  defs.push_back({"DFT", "", "f32_dft__ref", 0, MakeDft});
  defs.push_back({"RoiAlign", "", "f32_roialign__ref", 0, MakeRoiAlign});
}

}  // namespace greenai::misck
