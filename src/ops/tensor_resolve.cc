// Resolve* helpers shared by tensor op inference and the reference kernels; see
// ops/tensor_internal.h for the contract.
#include <cmath>
#include <limits>

#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::tensorops {

Result<Tensor> BuildConstant(const Node& n) {
  const Attribute* a = nullptr;
  int found = 0;
  static const char* kNames[] = {"value", "value_float", "value_floats", "value_int", "value_ints",
                                 "value_string", "value_strings", "sparse_value"};
  for (const char* name : kNames) {
    if (const Attribute* x = n.FindAttr(name)) {
      a = x;
      ++found;
    }
  }
  if (found != 1)
    return InvalidArgument("{}: has {} value attributes, expects exactly one of value, value_float(s), "
                           "value_int(s), value_string(s)", n.Describe(), found);
  const std::string& k = a->name;
  if (k == "value") {
    if (a->kind != Attribute::Kind::kTensor || !a->t.defined())
      return InvalidArgument("{}: attribute 'value' is not a tensor", n.Describe());
    return a->t;
  }
  if (k == "value_float") return Tensor::Scalar<float>(a->f);
  if (k == "value_floats")
    return Tensor::FromVector<float>({static_cast<int64_t>(a->floats.size())}, a->floats);
  if (k == "value_int") return Tensor::Scalar<int64_t>(a->i);
  if (k == "value_ints") return Tensor::FromVector<int64_t>({static_cast<int64_t>(a->ints.size())}, a->ints);
  if (k == "value_string") return Tensor::Scalar<std::string>(a->s);
  if (k == "value_strings")
    return Tensor::FromVector<std::string>({static_cast<int64_t>(a->strings.size())}, a->strings);
  return Unimplemented("{}: sparse_value constants are not supported", n.Describe());
}

Result<Shape> ResolveReshape(const Node& n, const Shape& in, const std::vector<int64_t>& target, bool allowzero) {
  Shape out(target.size());
  int64_t neg = -1;
  bool has_zero = false;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (t == 0 && !allowzero) {
      if (i >= in.size())
        return InvalidArgument("{}: shape[{}] is 0 (copy input dim) but the input has rank {}", n.Describe(), i,
                               in.size());
      out[i] = in[i];
    } else if (t == -1) {
      if (neg >= 0)
        return InvalidArgument("{}: shape {} has more than one -1", n.Describe(), ShapeToString(target));
      neg = static_cast<int64_t>(i);
      out[i] = -1;
    } else if (t < -1) {
      return InvalidArgument("{}: shape[{}] is {} (dims must be >= -1)", n.Describe(), i, t);
    } else {
      has_zero |= t == 0;
      out[i] = t;
    }
  }
  if (allowzero && has_zero && neg >= 0)
    return InvalidArgument("{}: shape {} has both 0 and -1, which allowzero=1 forbids", n.Describe(),
                           ShapeToString(target));
  bool in_known = std::all_of(in.begin(), in.end(), [](int64_t d) { return d >= 0; });
  int64_t in_numel = in_known ? NumElements(in) : -1;
  int64_t other = 1;
  bool other_known = true;
  for (size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int64_t>(i) == neg) continue;
    if (out[i] < 0) other_known = false;
    else if (out[i] != 0 && other > kMaxTensorElements / out[i])
      return InvalidArgument("{}: shape {} has too many elements", n.Describe(), ShapeToString(target));
    else other *= out[i];
  }
  if (neg >= 0) {
    if (in_known && other_known) {
      if (other == 0 || in_numel % other != 0)
        return InvalidArgument("{}: cannot reshape input {} ({} elements) to {}: {} is not a multiple of {}",
                               n.Describe(), ShapeToString(in), in_numel, ShapeToString(target), in_numel, other);
      out[static_cast<size_t>(neg)] = in_numel / other;
    }
  } else if (in_known && other_known && other != in_numel) {
    return InvalidArgument("{}: cannot reshape input {} ({} elements) to {} ({} elements)", n.Describe(),
                           ShapeToString(in), in_numel, ShapeToString(out), other);
  }
  return out;
}

Result<std::vector<int64_t>> ResolvePerm(const Node& n, int64_t rank) {
  std::vector<int64_t> perm = n.GetInts("perm");
  if (!n.HasAttr("perm")) {
    perm.resize(static_cast<size_t>(rank));
    for (int64_t i = 0; i < rank; ++i) perm[static_cast<size_t>(i)] = rank - 1 - i;
    return perm;
  }
  if (static_cast<int64_t>(perm.size()) != rank)
    return InvalidArgument("{}: perm has {} entries but the input has rank {}", n.Describe(), perm.size(), rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (auto& p : perm) {
    GREENAI_ASSIGN_OR_RETURN(p, NormalizeAxis(p, rank, n.Describe() + " perm"));
    if (seen[static_cast<size_t>(p)])
      return InvalidArgument("{}: perm repeats axis {} (expects a permutation)", n.Describe(), p);
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

Result<Shape> ResolveSqueeze(const Node& n, const Shape& in, const std::optional<std::vector<int64_t>>& axes) {
  int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> drop(in.size(), false);
  if (!axes || axes->empty()) {
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] < 0) return InvalidArgument("{}: cannot squeeze without axes: dim {} is unknown", n.Describe(), i);
      drop[i] = in[i] == 1;
    }
  } else {
    for (int64_t a : *axes) {
      GREENAI_ASSIGN_OR_RETURN(int64_t ax, NormalizeAxis(a, rank, n.Describe()));
      if (in[static_cast<size_t>(ax)] > 1 || in[static_cast<size_t>(ax)] == 0)
        return InvalidArgument("{}: cannot squeeze axis {} of size {} (expects 1)", n.Describe(), a,
                               in[static_cast<size_t>(ax)]);
      drop[static_cast<size_t>(ax)] = true;
    }
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) out.push_back(in[i]);
  return out;
}

Result<Shape> ResolveUnsqueeze(const Node& n, const Shape& in, const std::vector<int64_t>& axes) {
  int64_t out_rank = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> ins(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) {
    GREENAI_ASSIGN_OR_RETURN(int64_t ax, NormalizeAxis(a, out_rank, n.Describe()));
    if (ins[static_cast<size_t>(ax)])
      return InvalidArgument("{}: axes repeat axis {} (expects distinct axes)", n.Describe(), a);
    ins[static_cast<size_t>(ax)] = true;
  }
  Shape out;
  size_t j = 0;
  for (size_t i = 0; i < ins.size(); ++i) out.push_back(ins[i] ? 1 : in[j++]);
  return out;
}

Result<SliceSpec> ResolveSlice(const Node& n, const Shape& in, const std::vector<int64_t>& starts,
                               const std::vector<int64_t>& ends, const std::optional<std::vector<int64_t>>& axes,
                               const std::optional<std::vector<int64_t>>& steps) {
  int64_t rank = static_cast<int64_t>(in.size());
  size_t k = starts.size();
  if (ends.size() != k || (axes && axes->size() != k) || (steps && steps->size() != k))
    return InvalidArgument("{}: starts, ends, axes and steps have different lengths ({}, {}, {}, {})",
                           n.Describe(), k, ends.size(), axes ? axes->size() : k, steps ? steps->size() : k);
  SliceSpec s;
  s.start.assign(in.size(), 0);
  s.step.assign(in.size(), 1);
  s.count = in;
  std::vector<bool> seen(in.size(), false);
  for (size_t j = 0; j < k; ++j) {
    int64_t a = axes ? (*axes)[j] : static_cast<int64_t>(j);
    GREENAI_ASSIGN_OR_RETURN(int64_t ax, NormalizeAxis(a, rank, n.Describe()));
    auto u = static_cast<size_t>(ax);
    if (seen[u]) return InvalidArgument("{}: axes repeat axis {}", n.Describe(), a);
    seen[u] = true;
    int64_t step = steps ? (*steps)[j] : 1;
    if (step == 0) return InvalidArgument("{}: steps[{}] is 0 (must be non-zero)", n.Describe(), j);
    if (step == std::numeric_limits<int64_t>::min()) step = -std::numeric_limits<int64_t>::max();
    s.step[u] = step;
    int64_t dim = in[u];
    if (dim < 0) {
      s.count[u] = -1;
      continue;
    }
    int64_t b = starts[j], e = ends[j];
    if (b < 0) b += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      s.count[u] = e > b ? (e - b - 1) / step + 1 : 0;
    } else if (dim == 0) {
      b = 0;
      s.count[u] = 0;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      s.count[u] = b > e ? (b - e - 1) / (-step) + 1 : 0;
    }
    s.start[u] = b;
  }
  return s;
}

Result<std::vector<int64_t>> ResolveSplit(const Node& n, int64_t dim, const std::vector<int64_t>& split,
                                          int64_t num_outputs) {
  size_t nout = n.outputs.size();
  if (!split.empty()) {
    if (split.size() != nout)
      return InvalidArgument("{}: split has {} entries but the node has {} outputs", n.Describe(), split.size(),
                             nout);
    int64_t sum = 0;
    for (int64_t v : split) {
      if (v < 0) return InvalidArgument("{}: split has a negative size {}", n.Describe(), v);
      sum += v;
    }
    if (dim >= 0 && sum != dim)
      return InvalidArgument("{}: split sizes sum to {} but the axis has length {}", n.Describe(), sum, dim);
    return split;
  }
  std::vector<int64_t> sizes(nout, -1);
  if (dim < 0) return sizes;
  auto k = static_cast<int64_t>(nout);
  if (num_outputs > 0) {
    if (num_outputs != k)
      return InvalidArgument("{}: num_outputs is {} but the node has {} outputs", n.Describe(), num_outputs, k);
    int64_t chunk = (dim + k - 1) / k;
    for (int64_t i = 0; i < k; ++i)
      sizes[static_cast<size_t>(i)] = std::max<int64_t>(0, std::min(chunk, dim - chunk * i));
    return sizes;
  }
  if (dim % k != 0)
    return InvalidArgument("{}: axis of length {} cannot be split into {} equal parts", n.Describe(), dim, k);
  std::fill(sizes.begin(), sizes.end(), dim / k);
  return sizes;
}

Result<PadMode> ParsePadMode(const Node& n) {
  std::string m = n.GetString("mode", "constant");
  if (m == "constant") return PadMode::kConstant;
  if (m == "reflect") return PadMode::kReflect;
  if (m == "edge") return PadMode::kEdge;
  if (m == "wrap") return PadMode::kWrap;
  return InvalidArgument("{}: mode '{}' is not one of constant, reflect, edge, wrap", n.Describe(), m);
}

Result<PadSpec> ResolvePads(const Node& n, int64_t rank, const std::vector<int64_t>& pads,
                            const std::optional<std::vector<int64_t>>& axes) {
  std::vector<int64_t> ax;
  if (axes) {
    for (int64_t a : *axes) {
      GREENAI_ASSIGN_OR_RETURN(int64_t x, NormalizeAxis(a, rank, n.Describe()));
      ax.push_back(x);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) ax.push_back(i);
  }
  if (pads.size() != 2 * ax.size())
    return InvalidArgument("{}: pads has {} values, expects {} (2 per padded axis)", n.Describe(), pads.size(),
                           2 * ax.size());
  PadSpec s;
  s.begin.assign(static_cast<size_t>(rank), 0);
  s.end.assign(static_cast<size_t>(rank), 0);
  for (size_t j = 0; j < ax.size(); ++j) {
    s.begin[static_cast<size_t>(ax[j])] = pads[j];
    s.end[static_cast<size_t>(ax[j])] = pads[j + ax.size()];
  }
  return s;
}

Result<ResizeAttrs> ParseResizeAttrs(const Node& n, int64_t opset) {
  ResizeAttrs a;
  bool upsample = n.op_type == "Upsample";
  a.is_upsample = upsample || opset < 11;
  std::string mode = n.GetString("mode", "nearest");
  if (mode == "nearest") a.mode = ResizeMode::kNearest;
  else if (mode == "linear" || mode == "bilinear" || mode == "trilinear") a.mode = ResizeMode::kLinear;
  else if (mode == "cubic" && !a.is_upsample) a.mode = ResizeMode::kCubic;
  else return InvalidArgument("{}: mode '{}' is not supported (expects nearest, linear or cubic)", n.Describe(), mode);
  if (a.is_upsample) {
    a.coord = CoordMode::kAsymmetric;
    a.nearest = NearestMode::kSimple;
    a.roi_input = -1;
    a.sizes_input = -1;
    a.scales_input = upsample && opset < 9 ? -1 : 1;
    if (a.scales_input < 0) {
      for (float f : n.GetFloats("scales")) a.attr_scales.push_back(f);
      if (a.attr_scales.empty()) return InvalidArgument("{}: attribute 'scales' is required", n.Describe());
    }
    return a;
  }
  std::string c = n.GetString("coordinate_transformation_mode", "half_pixel");
  if (c == "half_pixel") a.coord = CoordMode::kHalfPixel;
  else if (c == "half_pixel_symmetric") a.coord = CoordMode::kHalfPixelSymmetric;
  else if (c == "pytorch_half_pixel") a.coord = CoordMode::kPytorchHalfPixel;
  else if (c == "align_corners") a.coord = CoordMode::kAlignCorners;
  else if (c == "asymmetric") a.coord = CoordMode::kAsymmetric;
  else if (c == "tf_half_pixel_for_nn") a.coord = CoordMode::kTfHalfPixelForNn;
  else if (c == "tf_crop_and_resize") a.coord = CoordMode::kTfCropAndResize;
  else return InvalidArgument("{}: coordinate_transformation_mode '{}' is unknown", n.Describe(), c);
  std::string nm = n.GetString("nearest_mode", "round_prefer_floor");
  if (nm == "round_prefer_floor") a.nearest = NearestMode::kRoundPreferFloor;
  else if (nm == "round_prefer_ceil") a.nearest = NearestMode::kRoundPreferCeil;
  else if (nm == "floor") a.nearest = NearestMode::kFloor;
  else if (nm == "ceil") a.nearest = NearestMode::kCeil;
  else return InvalidArgument("{}: nearest_mode '{}' is unknown", n.Describe(), nm);
  a.cubic_a = n.GetFloat("cubic_coeff_a", -0.75f);
  a.exclude_outside = n.GetInt("exclude_outside", 0) != 0;
  a.extrapolation = n.GetFloat("extrapolation_value", 0.0f);
  if (n.GetInt("antialias", 0) != 0)
    return Unimplemented("{}: antialias=1 is not supported", n.Describe());
  a.axes = n.GetInts("axes");
  a.aspect_policy = n.GetString("keep_aspect_ratio_policy", "stretch");
  if (a.aspect_policy != "stretch" && a.aspect_policy != "not_larger" && a.aspect_policy != "not_smaller")
    return InvalidArgument("{}: keep_aspect_ratio_policy '{}' is unknown", n.Describe(), a.aspect_policy);
  return a;
}

Result<ResizeSpec> ResolveResize(const Node& n, const ResizeAttrs& a, const Shape& in,
                                 const std::vector<double>& scales, const std::vector<int64_t>& sizes,
                                 const std::vector<double>& roi) {
  auto rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> axes;
  if (a.axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  } else {
    for (int64_t x : a.axes) {
      GREENAI_ASSIGN_OR_RETURN(int64_t ax, NormalizeAxis(x, rank, n.Describe()));
      axes.push_back(ax);
    }
  }
  ResizeSpec s;
  s.out = in;
  s.scales.assign(in.size(), 1.0);
  if (!sizes.empty()) {
    if (!scales.empty())
      return InvalidArgument("{}: both scales and sizes are given (expects exactly one)", n.Describe());
    if (sizes.size() != axes.size())
      return InvalidArgument("{}: sizes has {} values for {} axes", n.Describe(), sizes.size(), axes.size());
    if (a.aspect_policy == "stretch") {
      for (size_t j = 0; j < axes.size(); ++j) {
        auto u = static_cast<size_t>(axes[j]);
        if (sizes[j] < 0) return InvalidArgument("{}: sizes[{}] is negative ({})", n.Describe(), j, sizes[j]);
        s.out[u] = sizes[j];
        s.scales[u] = in[u] > 0 ? static_cast<double>(sizes[j]) / static_cast<double>(in[u]) : 1.0;
      }
    } else {
      double sc = a.aspect_policy == "not_larger" ? std::numeric_limits<double>::max() : 0.0;
      for (size_t j = 0; j < axes.size(); ++j) {
        auto u = static_cast<size_t>(axes[j]);
        if (in[u] <= 0) continue;
        double r = static_cast<double>(sizes[j]) / static_cast<double>(in[u]);
        sc = a.aspect_policy == "not_larger" ? std::min(sc, r) : std::max(sc, r);
      }
      for (int64_t ax : axes) {
        auto u = static_cast<size_t>(ax);
        s.scales[u] = sc;
        s.out[u] = in[u] < 0 ? -1 : static_cast<int64_t>(std::nearbyint(sc * static_cast<double>(in[u])));
      }
    }
  } else if (!scales.empty()) {
    if (scales.size() != axes.size())
      return InvalidArgument("{}: scales has {} values for {} axes", n.Describe(), scales.size(), axes.size());
    for (size_t j = 0; j < axes.size(); ++j) {
      auto u = static_cast<size_t>(axes[j]);
      if (!(scales[j] > 0) || !std::isfinite(scales[j]))
        return InvalidArgument("{}: scales[{}] is {} (must be > 0)", n.Describe(), j, scales[j]);
      s.scales[u] = scales[j];
      double o = std::floor(scales[j] * static_cast<double>(in[u]));
      if (o > static_cast<double>(kMaxTensorElements))
        return InvalidArgument("{}: scales[{}]={} makes the output too large", n.Describe(), j, scales[j]);
      s.out[u] = in[u] < 0 ? -1 : static_cast<int64_t>(o);
    }
  } else {
    return InvalidArgument("{}: needs scales or sizes", n.Describe());
  }
  s.roi.assign(2 * in.size(), 0.0);
  for (size_t i = 0; i < in.size(); ++i) s.roi[in.size() + i] = 1.0;
  if (a.coord == CoordMode::kTfCropAndResize && !roi.empty()) {
    size_t k = axes.size();
    if (roi.size() != 2 * k)
      return InvalidArgument("{}: roi has {} values, expects {}", n.Describe(), roi.size(), 2 * k);
    for (size_t j = 0; j < k; ++j) {
      s.roi[static_cast<size_t>(axes[j])] = roi[j];
      s.roi[in.size() + static_cast<size_t>(axes[j])] = roi[k + j];
    }
  }
  return s;
}

}  // namespace greenai::tensorops
