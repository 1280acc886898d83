// GridSample reference kernel (4-D), following ONNX Runtime's scheme: denormalize, round
// (nearest) or interpolate, with out-of-range coordinates first clamped (border) or
// reflected (reflection), and out-of-range pixels read as 0 (zeros).
#include <algorithm>
#include <cmath>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"

namespace greenai::misck {
namespace {

enum class Pad { kZeros, kBorder, kReflection };

float Reflect(float x, float lo, float hi) {
  const float range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const float d = lo - x;
    const int n = static_cast<int>(d / range);
    const float r = d - static_cast<float>(n) * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const float d = x - hi;
    const int n = static_cast<int>(d / range);
    const float r = d - static_cast<float>(n) * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

struct Image {
  const float* data;
  int64_t H, W;
  Pad pad;
  float bounds[4];  // x_min, y_min, x_max, y_max
  float At(int64_t y, int64_t x) const {
    if (pad == Pad::kZeros) return (x < 0 || y < 0 || x >= W || y >= H) ? 0.f : data[y * W + x];
    if (pad == Pad::kBorder) {
      x = std::clamp<int64_t>(x, 0, W - 1);
      y = std::clamp<int64_t>(y, 0, H - 1);
    } else {
      x = static_cast<int64_t>(Reflect(static_cast<float>(x), bounds[0], bounds[2]));
      y = static_cast<int64_t>(Reflect(static_cast<float>(y), bounds[1], bounds[3]));
      x = std::clamp<int64_t>(x, 0, W - 1);
      y = std::clamp<int64_t>(y, 0, H - 1);
    }
    return data[y * W + x];
  }
};

void CubicCoeffs(float t, float c[4]) {
  constexpr float A = -0.75f;
  const float x = std::fabs(t);
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A;
}

Status RunGridSample(const Node& node, KernelContext& ctx) {
  const Tensor& X = *ctx.inputs[0];
  const Tensor& G = *ctx.inputs[1];
  Tensor& Y = *ctx.outputs[0];
  const std::string mode = node.GetString("mode", "bilinear"), pad_s = node.GetString("padding_mode", "zeros");
  const bool align = node.GetInt("align_corners", 0) != 0;
  const Pad pad = pad_s == "border" ? Pad::kBorder : pad_s == "reflection" ? Pad::kReflection : Pad::kZeros;
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), W = X.dim(3), Ho = G.dim(1), Wo = G.dim(2);
  const float fw = static_cast<float>(W), fh = static_cast<float>(H);
  const float xmin = align ? 0.f : -0.5f, ymin = xmin, xmax = align ? fw - 1 : fw - 0.5f, ymax = align ? fh - 1 : fh - 0.5f;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const Image img{X.data<float>() + (n * C + c) * H * W, H, W, pad, {xmin, ymin, xmax, ymax}};
      for (int64_t i = 0; i < Ho * Wo; ++i) {
        const float* g = G.data<float>() + (n * Ho * Wo + i) * 2;
        float x = align ? (g[0] + 1) / 2 * (fw - 1) : ((g[0] + 1) * fw - 1) / 2;
        float y = align ? (g[1] + 1) / 2 * (fh - 1) : ((g[1] + 1) * fh - 1) / 2;
        if (mode == "nearest") {
          x = std::nearbyint(x);
          y = std::nearbyint(y);
        }
        if (x < xmin || x > xmax || y < ymin || y > ymax) {
          if (pad == Pad::kBorder) {
            x = std::clamp(x, 0.f, fw - 1);
            y = std::clamp(y, 0.f, fh - 1);
          } else if (pad == Pad::kReflection) {
            x = Reflect(x, xmin, xmax);
            y = Reflect(y, ymin, ymax);
          }
        }
        float v;
        if (mode == "nearest") {
          v = img.At(static_cast<int64_t>(y), static_cast<int64_t>(x));
        } else if (mode == "bilinear") {
          const float x1 = std::floor(x), y1 = std::floor(y);
          const int64_t ix = static_cast<int64_t>(x1), iy = static_cast<int64_t>(y1);
          const float dx1 = x - x1, dx2 = 1 - dx1, dy1 = y - y1, dy2 = 1 - dy1;
          v = dy2 * (dx2 * img.At(iy, ix) + dx1 * img.At(iy, ix + 1)) +
              dy1 * (dx2 * img.At(iy + 1, ix) + dx1 * img.At(iy + 1, ix + 1));
        } else {
          const int64_t x0 = static_cast<int64_t>(std::floor(x)) - 1, y0 = static_cast<int64_t>(std::floor(y)) - 1;
          float cx[4], cy[4];
          CubicCoeffs(x - static_cast<float>(x0) - 1, cx);
          CubicCoeffs(y - static_cast<float>(y0) - 1, cy);
          v = 0;
          for (int r = 0; r < 4; ++r) {
            float row = 0;
            for (int k = 0; k < 4; ++k) row += cx[k] * img.At(y0 + r, x0 + k);
            v += cy[r] * row;
          }
        }
        Y.data<float>()[(n * C + c) * Ho * Wo + i] = v;
      }
    }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> MakeGridSample(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(
      MakeLambdaKernel([node = info.node](KernelContext& ctx) -> Status { return RunGridSample(node, ctx); }));
}

}  // namespace

void AddGridKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"GridSample", "", "f32_gridsample__ref", 0, MakeGridSample});
}

}  // namespace greenai::misck
