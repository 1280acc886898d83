// Calibration / evaluation batches from a Dataset; see calib_data.h.
#include "compress/quantize/calib_data.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "runtime/session.h"

namespace greenai::compress {

std::pair<std::string, int64_t> ParseDataSpec(const std::string& spec) {
  std::string s = spec;
  int64_t n = 0;
  const auto colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size() &&
      std::all_of(s.begin() + static_cast<std::ptrdiff_t>(colon) + 1, s.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    n = std::stoll(s.substr(colon + 1));
    s = s.substr(0, colon);
  }
  std::error_code ec;
  if (s.find(':') == std::string::npos && s != "fashion-mnist" && std::filesystem::is_directory(s, ec))
    s = "npy:" + s;
  return {s, n};
}

namespace {

Result<ValueInfo> FloatInput(const Model& model) {
  const Graph& g = *model.graph;
  std::vector<ValueInfo> ins;
  for (const auto& in : g.inputs)
    if (!g.IsInitializer(in.name)) ins.push_back(in);
  if (ins.size() != 1 || ins[0].type.dtype != DType::kF32)
    return InvalidArgument("model has {} inputs (or a non-float32 input); data sets feed models with one float32 input",
                           ins.size());
  if (!ins[0].type.has_shape || ins[0].type.dims.empty())
    return InvalidArgument("model input '{}' has no known rank; cannot shape data set samples for it", ins[0].name);
  return ins[0];
}

}  // namespace

Result<std::vector<Feeds>> DatasetBatches(const Model& model, const train::Dataset& ds, int64_t limit, int64_t batch) {
  GREENAI_ASSIGN_OR_RETURN(ValueInfo in, FloatInput(model));
  int64_t per_sample = 1;
  for (size_t i = 1; i < in.type.dims.size(); ++i) {
    if (in.type.dims[i] < 0)
      return InvalidArgument("model input '{}' {} has an unknown non-batch dim; cannot shape samples for it", in.name,
                             in.type.ToString());
    per_sample *= in.type.dims[i];
  }
  const int64_t sample_numel = NumElements(ds.sample_shape());
  if (sample_numel != per_sample)
    return InvalidArgument("data set '{}' samples have shape {} ({} values) but model input '{}' {} takes {} per sample",
                           ds.name(), ShapeToString(ds.sample_shape()), sample_numel, in.name, in.type.ToString(),
                           per_sample);
  const bool fixed = in.type.dims[0] > 0;
  const int64_t b = fixed ? in.type.dims[0] : std::max<int64_t>(1, batch);
  const int64_t n = limit > 0 ? std::min(limit, ds.size()) : ds.size();
  std::vector<Feeds> out;
  for (int64_t start = 0; start < n; start += b) {
    const int64_t count = std::min(b, n - start);
    if (fixed && count < b) break;
    Shape shape = in.type.dims;
    shape[0] = count;
    GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DType::kF32, shape));
    for (int64_t i = 0; i < count; ++i) ds.CopySample(start + i, t.data<float>() + i * per_sample);
    out.push_back({{in.name, t}});
  }
  if (out.empty())
    return InvalidArgument("data set '{}' gives no full batch of {} samples for input '{}'", ds.name(), b, in.name);
  return out;
}

Result<Top1Result> Top1(const Model& model, const train::Dataset& ds, int64_t limit, int64_t batch) {
  GREENAI_ASSIGN_OR_RETURN(auto batches, DatasetBatches(model, ds, limit, batch));
  GREENAI_ASSIGN_OR_RETURN(auto session, Session::Create(model));
  Top1Result r;
  int64_t correct = 0, index = 0;
  for (const auto& feeds : batches) {
    GREENAI_ASSIGN_OR_RETURN(auto outs, session->Run(feeds));
    const Tensor& logits = outs[0];
    const int64_t b = feeds[0].second.dim(0);
    if (logits.dtype() != DType::kF32 || logits.numel() % std::max<int64_t>(1, b) != 0)
      return InvalidArgument("model output '{}' is not float32 logits [batch, classes]", session->outputs()[0].name);
    const int64_t classes = logits.numel() / b;
    for (int64_t i = 0; i < b; ++i, ++index) {
      const float* p = logits.data<float>() + i * classes;
      const int64_t pred = std::max_element(p, p + classes) - p;
      r.predictions.push_back(pred);
      correct += pred == ds.label(index);
    }
  }
  r.samples = index;
  r.accuracy = index ? static_cast<double>(correct) / static_cast<double>(index) : 0;
  return r;
}

}  // namespace greenai::compress
