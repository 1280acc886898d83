// Det (LU with partial pivoting, in double) and NonMaxSuppression reference kernels.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_misc_internal.h"

namespace greenai::misck {
namespace {

template <typename T>
void Det(const Tensor& x, Tensor& y) {
  const int64_t n = x.dim(-1), mats = y.numel();
  std::vector<double> a(static_cast<size_t>(n * n));
  for (int64_t m = 0; m < mats; ++m) {
    for (int64_t i = 0; i < n * n; ++i) a[static_cast<size_t>(i)] = static_cast<double>(x.data<T>()[m * n * n + i]);
    double det = 1;
    for (int64_t c = 0; c < n && det != 0; ++c) {
      int64_t piv = c;
      for (int64_t r = c + 1; r < n; ++r)
        if (std::fabs(a[static_cast<size_t>(r * n + c)]) > std::fabs(a[static_cast<size_t>(piv * n + c)])) piv = r;
      if (a[static_cast<size_t>(piv * n + c)] == 0) { det = 0; break; }
      if (piv != c) {
        for (int64_t k = 0; k < n; ++k) std::swap(a[static_cast<size_t>(piv * n + k)], a[static_cast<size_t>(c * n + k)]);
        det = -det;
      }
      const double p = a[static_cast<size_t>(c * n + c)];
      det *= p;
      for (int64_t r = c + 1; r < n; ++r) {
        const double f = a[static_cast<size_t>(r * n + c)] / p;
        for (int64_t k = c; k < n; ++k) a[static_cast<size_t>(r * n + k)] -= f * a[static_cast<size_t>(c * n + k)];
      }
    }
    y.data<T>()[m] = static_cast<T>(det);
  }
}

Result<std::unique_ptr<Kernel>> MakeDet(const KernelInfo&) {
  return std::unique_ptr<Kernel>(MakeLambdaKernel([](KernelContext& ctx) -> Status {
    if (ctx.inputs[0]->dtype() == DType::kF64) Det<double>(*ctx.inputs[0], *ctx.outputs[0]);
    else Det<float>(*ctx.inputs[0], *ctx.outputs[0]);
    return Status::Ok();
  }));
}

// Box as (y1, x1, y2, x2) with y1 <= y2, x1 <= x2.
struct Box {
  float y1, x1, y2, x2;
};
Box ReadBox(const float* b, bool center) {
  if (center) return {b[1] - b[3] / 2, b[0] - b[2] / 2, b[1] + b[3] / 2, b[0] + b[2] / 2};
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}
// True when the IoU of a and b exceeds the threshold (boxes with no area never suppress).
bool Suppresses(const Box& a, const Box& b, float iou_threshold) {
  const float area_a = (a.y2 - a.y1) * (a.x2 - a.x1), area_b = (b.y2 - b.y1) * (b.x2 - b.x1);
  if (area_a <= 0 || area_b <= 0) return false;
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1), iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (ih <= 0 || iw <= 0) return false;
  const float inter = ih * iw;
  return inter / (area_a + area_b - inter) > iou_threshold;
}

Status RunNms(const Node& node, KernelContext& ctx) {
  const Tensor& boxes = *ctx.inputs[0];
  const Tensor& scores = *ctx.inputs[1];
  auto opt = [&](size_t i) -> const Tensor* {
    return i < ctx.inputs.size() && ctx.inputs[i] && ctx.inputs[i]->numel() > 0 ? ctx.inputs[i] : nullptr;
  };
  const int64_t max_out = opt(2) ? static_cast<int64_t>(opt(2)->GetAsDouble(0)) : 0;
  const float iou = opt(3) ? static_cast<float>(opt(3)->GetAsDouble(0)) : 0.f;
  const bool has_st = opt(4) != nullptr;
  const float st = has_st ? static_cast<float>(opt(4)->GetAsDouble(0)) : 0.f;
  if (iou < 0 || iou > 1)
    return InvalidArgument("{}: iou_threshold is {}, expects a value in [0, 1]", node.Describe(), iou);
  const bool center = node.GetInt("center_point_box", 0) != 0;
  const int64_t B = boxes.dim(0), S = boxes.dim(1), C = scores.dim(1);
  if (scores.dim(0) != B || scores.dim(2) != S)
    return InvalidArgument("{}: boxes {} and scores {} disagree on num_batches or spatial_dimension",
                           node.Describe(), ShapeToString(boxes.shape()), ShapeToString(scores.shape()));
  std::vector<int64_t> sel;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float* sc = scores.data<float>() + (b * C + c) * S;
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < S; ++i)
        if (!has_st || sc[i] > st) cand.push_back(i);
      // Highest score first; ties keep the lower box index first.
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t p, int64_t q) { return sc[p] > sc[q]; });
      std::vector<Box> kept;
      int64_t count = 0;
      for (int64_t i : cand) {
        if (count >= max_out) break;
        const Box bx = ReadBox(boxes.data<float>() + (b * S + i) * 4, center);
        bool drop = false;
        for (const Box& k : kept)
          if (Suppresses(k, bx, iou)) { drop = true; break; }
        if (drop) continue;
        kept.push_back(bx);
        sel.insert(sel.end(), {b, c, i});
        ++count;
      }
    }
  GREENAI_ASSIGN_OR_RETURN(*ctx.outputs[0], Tensor::Create(DType::kI64, {static_cast<int64_t>(sel.size() / 3), 3}));
  std::copy(sel.begin(), sel.end(), ctx.outputs[0]->data<int64_t>());
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> MakeNms(const KernelInfo& info) {
  return std::unique_ptr<Kernel>(
      MakeLambdaKernel([node = info.node](KernelContext& ctx) -> Status { return RunNms(node, ctx); }));
}

}  // namespace

void AddLinalgKernels(std::vector<KernelDef>& defs) {
  defs.push_back({"Det", "", "f32_det__ref", 0, MakeDet});
  defs.push_back({"NonMaxSuppression", "", "f32_nonmaxsuppression__ref", 0, MakeNms});
}

}  // namespace greenai::misck
