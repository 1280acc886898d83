#include "ops/nn_util.h"

#include <algorithm>

namespace greenai::nn {

namespace {

// Python-style floor division: ConvTranspose total padding may be negative and the
// ONNX reference splits it with //.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Status CheckLen(const Node& node, const char* attr, const std::vector<int64_t>& v, size_t want, int nsp) {
  if (v.size() != want)
    return InvalidArgument("{}: {} has {} values but the input has {} spatial dims (expects {})", node.Describe(),
                           attr, v.size(), nsp, want);
  return Status::Ok();
}

}  // namespace

int64_t Prod(const std::vector<int64_t>& v, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < v.size() && i < to; ++i) p *= v[i];
  return p;
}

Result<WindowAttrs> WindowAttrs::Parse(const Node& node, int nsp, const std::vector<int64_t>& weight_kernel,
                                       bool is_transpose) {
  WindowAttrs a;
  a.nsp = nsp;
  const size_t n = static_cast<size_t>(nsp);
  if (nsp < 1) return InvalidArgument("{}: input must have at least 1 spatial dim (rank >= 3)", node.Describe());
  a.kernel = node.GetInts("kernel_shape", weight_kernel);
  if (a.kernel.empty()) return InvalidArgument("{}: kernel_shape is required", node.Describe());
  if (a.kernel.size() != n)
    return InvalidArgument("{}: kernel_shape has {} dims but input X is {}-D (expects {})", node.Describe(),
                           a.kernel.size(), nsp + 2, nsp);
  if (!weight_kernel.empty()) {
    for (size_t i = 0; i < n; ++i)
      if (weight_kernel[i] >= 0 && weight_kernel[i] != a.kernel[i])
        return InvalidArgument("{}: kernel_shape[{}]={} differs from weight W's dim {}", node.Describe(), i,
                               a.kernel[i], weight_kernel[i]);
  }
  a.strides = node.GetInts("strides", std::vector<int64_t>(n, 1));
  a.dilations = node.GetInts("dilations", std::vector<int64_t>(n, 1));
  std::vector<int64_t> pads = node.GetInts("pads", std::vector<int64_t>(2 * n, 0));
  GREENAI_RETURN_IF_ERROR(CheckLen(node, "strides", a.strides, n, nsp));
  GREENAI_RETURN_IF_ERROR(CheckLen(node, "dilations", a.dilations, n, nsp));
  GREENAI_RETURN_IF_ERROR(CheckLen(node, "pads", pads, 2 * n, nsp));
  for (size_t i = 0; i < n; ++i) {
    if (a.kernel[i] < 1) return InvalidArgument("{}: kernel_shape[{}]={} must be >= 1", node.Describe(), i, a.kernel[i]);
    if (a.strides[i] < 1) return InvalidArgument("{}: strides[{}]={} must be >= 1", node.Describe(), i, a.strides[i]);
    if (a.dilations[i] < 1)
      return InvalidArgument("{}: dilations[{}]={} must be >= 1", node.Describe(), i, a.dilations[i]);
    if (pads[i] < 0 || pads[i + n] < 0)
      return InvalidArgument("{}: pads must be >= 0 (got {} and {} for dim {})", node.Describe(), pads[i],
                             pads[i + n], i);
  }
  a.pads_begin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(n));
  a.pads_end.assign(pads.begin() + static_cast<std::ptrdiff_t>(n), pads.end());
  std::string ap = node.GetString("auto_pad", "NOTSET");
  if (ap == "NOTSET") a.auto_pad = AutoPad::kNotSet;
  else if (ap == "SAME_UPPER") a.auto_pad = AutoPad::kSameUpper;
  else if (ap == "SAME_LOWER") a.auto_pad = AutoPad::kSameLower;
  else if (ap == "VALID") a.auto_pad = AutoPad::kValid;
  else
    return InvalidArgument("{}: auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", node.Describe(), ap);
  int64_t cm = node.GetInt("ceil_mode", 0);
  if (cm != 0 && cm != 1) return InvalidArgument("{}: ceil_mode={} must be 0 or 1", node.Describe(), cm);
  a.ceil_mode = cm == 1;
  if (is_transpose) {
    a.output_padding = node.GetInts("output_padding", std::vector<int64_t>(n, 0));
    GREENAI_RETURN_IF_ERROR(CheckLen(node, "output_padding", a.output_padding, n, nsp));
    for (size_t i = 0; i < n; ++i)
      if (a.output_padding[i] < 0 || a.output_padding[i] >= std::max(a.strides[i], a.dilations[i]))
        return InvalidArgument("{}: output_padding[{}]={} must be in [0, max(stride, dilation))", node.Describe(), i,
                               a.output_padding[i]);
    a.output_shape = node.GetInts("output_shape");
    if (a.output_shape.size() == n + 2)  // also accept the full N,C,... form
      a.output_shape.erase(a.output_shape.begin(), a.output_shape.begin() + 2);
    if (!a.output_shape.empty()) GREENAI_RETURN_IF_ERROR(CheckLen(node, "output_shape", a.output_shape, n, nsp));
  }
  return a;
}

Result<WindowGeom> ComputeForward(const Node& node, const WindowAttrs& a, const std::vector<int64_t>& in) {
  WindowGeom g;
  g.nsp = a.nsp;
  g.in = in;
  g.kernel = a.kernel;
  g.strides = a.strides;
  g.dilations = a.dilations;
  g.pad_begin = a.pads_begin;
  g.pad_end = a.pads_end;
  g.out.assign(in.size(), -1);
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t ek = (a.kernel[i] - 1) * a.dilations[i] + 1;
    int64_t s = a.strides[i];
    if (in[i] < 0) continue;
    switch (a.auto_pad) {
      case AutoPad::kSameUpper:
      case AutoPad::kSameLower: {
        int64_t out = (in[i] + s - 1) / s;
        int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in[i]);
        int64_t small = total / 2;
        g.pad_begin[i] = a.auto_pad == AutoPad::kSameUpper ? small : total - small;
        g.pad_end[i] = total - g.pad_begin[i];
        g.out[i] = out;
        break;
      }
      case AutoPad::kValid:
        g.pad_begin[i] = g.pad_end[i] = 0;
        [[fallthrough]];
      case AutoPad::kNotSet: {
        int64_t span = in[i] + g.pad_begin[i] + g.pad_end[i] - ek;
        if (span < 0)
          return InvalidArgument("{}: window of {} (kernel {} dilation {}) exceeds padded input {} in spatial dim {}",
                                 node.Describe(), ek, a.kernel[i], a.dilations[i],
                                 in[i] + g.pad_begin[i] + g.pad_end[i], i);
        int64_t out = a.ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
        // A ceil-mode window must start inside the input or left padding (PyTorch/ONNX rule).
        if (a.ceil_mode && (out - 1) * s >= in[i] + g.pad_begin[i]) --out;
        g.out[i] = out;
        break;
      }
    }
  }
  return g;
}

Result<WindowGeom> ComputeTranspose(const Node& node, const WindowAttrs& a, const std::vector<int64_t>& in) {
  WindowGeom g;
  g.nsp = a.nsp;
  g.in = in;
  g.kernel = a.kernel;
  g.strides = a.strides;
  g.dilations = a.dilations;
  g.pad_begin = a.pads_begin;
  g.pad_end = a.pads_end;
  g.out.assign(in.size(), -1);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] < 0) continue;
    int64_t ek = (a.kernel[i] - 1) * a.dilations[i] + 1;
    int64_t natural = a.strides[i] * (in[i] - 1) + a.output_padding[i] + ek;
    int64_t target = -1;
    if (!a.output_shape.empty()) target = a.output_shape[i];
    else if (a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower) target = in[i] * a.strides[i];
    if (target >= 0) {
      int64_t total = natural - target;
      if (a.auto_pad == AutoPad::kSameUpper) {
        g.pad_begin[i] = FloorDiv(total, 2);
        g.pad_end[i] = total - FloorDiv(total, 2);
      } else {
        g.pad_begin[i] = total - FloorDiv(total, 2);
        g.pad_end[i] = FloorDiv(total, 2);
      }
      g.out[i] = target;
    } else {
      if (a.auto_pad == AutoPad::kValid) g.pad_begin[i] = g.pad_end[i] = 0;
      g.out[i] = natural - g.pad_begin[i] - g.pad_end[i];
    }
    if (g.out[i] < 1)
      return InvalidArgument("{}: output spatial dim {} would be {} (must be >= 1)", node.Describe(), i, g.out[i]);
  }
  return g;
}

WindowGeom Geometry3(const WindowGeom& g) {
  WindowGeom r;
  r.nsp = 3;
  size_t lead = 3 - static_cast<size_t>(g.nsp);
  auto lift = [lead](const std::vector<int64_t>& v, int64_t fill) {
    std::vector<int64_t> o(lead, fill);
    o.insert(o.end(), v.begin(), v.end());
    return o;
  };
  r.in = lift(g.in, 1);
  r.kernel = lift(g.kernel, 1);
  r.strides = lift(g.strides, 1);
  r.dilations = lift(g.dilations, 1);
  r.pad_begin = lift(g.pad_begin, 0);
  r.pad_end = lift(g.pad_end, 0);
  r.out = lift(g.out, 1);
  return r;
}

}  // namespace greenai::nn
