#include "ops/quant_util.h"

#include <algorithm>

#include "ops/shape_util.h"

namespace greenai::quant {

Result<ConvGeom> ComputeConvGeom(const Node& node, const std::vector<int64_t>& x, const std::vector<int64_t>& w) {
  if (x.size() < 3)
    return InvalidArgument("{}: input x has rank {}, expects at least 3 ([N, C, D1, ...])", node.Describe(), x.size());
  if (w.size() != x.size())
    return InvalidArgument("{}: weight w has rank {} but input x has rank {} (must match)", node.Describe(), w.size(),
                           x.size());
  const size_t nsp = x.size() - 2;
  ConvGeom g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = w[0];
  g.group = node.GetInt("group", 1);
  if (g.group < 1) return InvalidArgument("{}: group is {}, expects >= 1", node.Describe(), g.group);
  g.in_sp.assign(x.begin() + 2, x.end());
  g.kernel = node.GetInts("kernel_shape", std::vector<int64_t>(w.begin() + 2, w.end()));
  g.strides = node.GetInts("strides", std::vector<int64_t>(nsp, 1));
  g.dilations = node.GetInts("dilations", std::vector<int64_t>(nsp, 1));
  std::vector<int64_t> pads = node.GetInts("pads", std::vector<int64_t>(2 * nsp, 0));
  if (g.kernel.size() != nsp || g.strides.size() != nsp || g.dilations.size() != nsp || pads.size() != 2 * nsp)
    return InvalidArgument(
        "{}: kernel_shape/strides/dilations have {}/{}/{} entries and pads {} but x has {} spatial dims",
        node.Describe(), g.kernel.size(), g.strides.size(), g.dilations.size(), pads.size(), nsp);
  for (size_t i = 0; i < nsp; ++i) {
    if (w[i + 2] >= 0 && g.kernel[i] != w[i + 2])
      return InvalidArgument("{}: kernel_shape[{}] is {} but w has {} (must match)", node.Describe(), i, g.kernel[i],
                             w[i + 2]);
    if (g.kernel[i] < 1 || g.strides[i] < 1 || g.dilations[i] < 1)
      return InvalidArgument("{}: kernel_shape, strides and dilations must be >= 1 (spatial dim {})",
                             node.Describe(), i);
    if (pads[i] < 0 || pads[i + nsp] < 0)
      return InvalidArgument("{}: pads must be >= 0 (spatial dim {})", node.Describe(), i);
  }
  if (g.in_channels >= 0 && w[1] >= 0 && g.in_channels != w[1] * g.group)
    return InvalidArgument("{}: x has {} channels but w expects {} x group {} = {}", node.Describe(), g.in_channels,
                           w[1], g.group, w[1] * g.group);
  if (g.out_channels >= 0 && g.out_channels % g.group != 0)
    return InvalidArgument("{}: w has {} output channels, not a multiple of group {}", node.Describe(),
                           g.out_channels, g.group);
  const std::string auto_pad = node.GetString("auto_pad", "NOTSET");
  g.pads_begin.assign(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(nsp));
  g.pads_end.assign(pads.begin() + static_cast<std::ptrdiff_t>(nsp), pads.end());
  g.out_sp.assign(nsp, -1);
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t in = g.in_sp[i];
    const int64_t ext = (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (in < 0) continue;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t out = (in + g.strides[i] - 1) / g.strides[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[i] + ext - in);
      const int64_t small = total / 2;
      g.pads_begin[i] = auto_pad == "SAME_UPPER" ? small : total - small;
      g.pads_end[i] = total - g.pads_begin[i];
    } else if (auto_pad == "VALID") {
      g.pads_begin[i] = g.pads_end[i] = 0;
    } else if (auto_pad != "NOTSET") {
      return InvalidArgument("{}: auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", node.Describe(),
                             auto_pad);
    }
    const int64_t span = in + g.pads_begin[i] + g.pads_end[i] - ext;
    if (span < 0)
      return InvalidArgument("{}: kernel extent {} exceeds padded input {} in spatial dim {}", node.Describe(), ext,
                             in + g.pads_begin[i] + g.pads_end[i], i);
    g.out_sp[i] = span / g.strides[i] + 1;
  }
  return g;
}

Result<QuantParamLayout> CheckQuantParams(const Node& node, int64_t opset, const TensorType& x,
                                          const TensorType& scale, const TensorType& zp, const char* scale_name,
                                          const char* zp_name, int64_t axis) {
  QuantParamLayout l;
  if (scale.dtype != DType::kF32)
    return InvalidArgument("{}: {} has dtype {}, expects float32", node.Describe(), scale_name,
                           DTypeName(scale.dtype));
  if (zp.dtype != DType::kUndefined && zp.has_shape && scale.has_shape && zp.dims != scale.dims)
    return InvalidArgument("{}: {} has shape {} but {} has shape {} (must match)", node.Describe(), zp_name,
                           ShapeToString(zp.dims), scale_name, ShapeToString(scale.dims));
  if (!scale.has_shape) return l;
  // A 1-element 1-D scale means the same as a scalar, whatever the dim at axis.
  if (scale.rank() == 0 || (scale.rank() == 1 && scale.dims[0] == 1)) return l;
  if (scale.rank() != 1)
    return InvalidArgument("{}: {} has shape {}, expects a scalar or a 1-D tensor (per-axis)", node.Describe(),
                           scale_name, ShapeToString(scale.dims));
  if (opset < 13)
    return InvalidArgument("{}: {} has shape {} but per-axis quantization needs opset >= 13 (model has {})",
                           node.Describe(), scale_name, ShapeToString(scale.dims), opset);
  if (x.has_shape) {
    GREENAI_ASSIGN_OR_RETURN(l.axis, NormalizeAxis(axis, x.rank(), node.Describe()));
    const int64_t d = x.dims[static_cast<size_t>(l.axis)];
    if (d >= 0 && scale.dims[0] >= 0 && d != scale.dims[0])
      return InvalidArgument("{}: {} has {} entries but input has {} at axis {} (per-axis scale must match)",
                             node.Describe(), scale_name, scale.dims[0], d, l.axis);
  }
  l.per_axis = true;
  l.count = scale.dims[0];
  return l;
}

Result<std::vector<int64_t>> MatMulDims(const Node& node, const std::vector<int64_t>& a,
                                        const std::vector<int64_t>& b, int64_t* k) {
  if (a.empty() || b.empty())
    return InvalidArgument("{}: matmul operands must have rank >= 1 (got {} and {})", node.Describe(),
                           ShapeToString(a), ShapeToString(b));
  std::vector<int64_t> a2 = a, b2 = b;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  const int64_t ka = a2.back(), kb = b2[b2.size() - 2];
  if (ka >= 0 && kb >= 0 && ka != kb)
    return InvalidArgument("{}: inner dims differ: A {} has K={} but B {} has K={}", node.Describe(),
                           ShapeToString(a), ka, ShapeToString(b), kb);
  *k = ka >= 0 ? ka : kb;
  GREENAI_ASSIGN_OR_RETURN(
      std::vector<int64_t> out,
      BroadcastDims({std::vector<int64_t>(a2.begin(), a2.end() - 2), std::vector<int64_t>(b2.begin(), b2.end() - 2)},
                    node.Describe()));
  if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.size() > 1) out.push_back(b2.back());
  return out;
}

}  // namespace greenai::quant
