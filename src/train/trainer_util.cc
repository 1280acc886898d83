// Trainer helpers that do not need the training loop: model I/O discovery, the dataset
// check, TrainableParams, MaskHook and Evaluate (see train/trainer.h).
#include "train/trainer_util.h"

#include <algorithm>
#include <unordered_set>

#include "ops/shape_inference.h"
#include "runtime/session.h"
#include "train/data_loader.h"
#include "train/loss.h"
#include "train/trainer.h"

namespace greenai::train {

Result<ModelIo> FindModelIo(const Model& model) {
  const Graph& g = *model.graph;
  ModelIo io;
  const ValueInfo* in = nullptr;
  for (const auto& v : g.inputs)
    if (!g.IsInitializer(v.name)) {
      in = &v;
      break;
    }
  if (!in) return InvalidArgument("model has no input that is not an initializer (expects one image/feature input)");
  if (in->type.dtype != DType::kF32)
    return InvalidArgument("model input '{}' is {} (expects float32)", in->name, DTypeName(in->type.dtype));
  if (!in->type.has_shape || in->type.rank() < 2)
    return InvalidArgument("model input '{}' has type {} (expects [batch, ...] with rank >= 2)", in->name,
                           in->type.ToString());
  if (g.outputs.empty()) return InvalidArgument("model has no outputs (expects logits [batch, classes])");
  io.input = in->name;
  io.logits = g.outputs[0].name;
  io.sample.assign(in->type.dims.begin() + 1, in->type.dims.end());
  TensorType out = g.outputs[0].type;
  if (!out.has_shape || out.rank() != 2 || out.dims[1] <= 0) {
    // Output types are optional in ONNX: infer them with the batch taken as 1.
    auto clone = g.Clone();
    for (auto& v : clone->inputs)
      if (v.name == io.input && !v.type.dims.empty() && v.type.dims[0] < 0) v.type.dims[0] = 1;
    clone->outputs[0].type = TensorType{};
    if (InferGraphTypes(*clone, model.OpsetFor(""), /*strict=*/false).ok()) {
      auto it = clone->value_types.find(io.logits);
      if (it != clone->value_types.end()) out = it->second;
    }
  }
  if (!out.has_shape || out.rank() != 2 || out.dims[1] <= 0)
    return InvalidArgument("model output '{}' has type {} (expects logits [batch, classes])", io.logits,
                           out.ToString());
  io.classes = out.dims[1];
  return io;
}

Status CheckDatasetFits(const ModelIo& io, const Dataset& ds) {
  const Shape& s = ds.sample_shape();
  bool ok = s.size() == io.sample.size();
  for (size_t i = 0; ok && i < s.size(); ++i) ok = io.sample[i] < 0 || io.sample[i] == s[i];
  if (!ok)
    return InvalidArgument("data set '{}' has samples of shape {} but model input '{}' takes samples of shape {}",
                           ds.name(), ShapeToString(s), io.input, ShapeToString(io.sample));
  if (ds.num_classes() > io.classes)
    return InvalidArgument("data set '{}' has {} classes but model output '{}' gives {} logits", ds.name(),
                           ds.num_classes(), io.logits, io.classes);
  if (ds.size() == 0) return InvalidArgument("data set '{}' is empty", ds.name());
  return Status::Ok();
}

std::vector<std::string> TrainableParams(const Model& model) {
  const Graph& g = *model.graph;
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  auto is_float_init = [&](const std::string& n) {
    const Tensor* t = g.FindInitializer(n);
    return t && t->dtype() == DType::kF32;
  };
  auto add = [&](const Node& n, size_t i) {
    if (n.HasInput(i) && is_float_init(n.inputs[i]) && seen.insert(n.inputs[i]).second) out.push_back(n.inputs[i]);
  };
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    const std::string& op = n.op_type;
    if (op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul") {
      for (size_t i = 0; i < n.inputs.size(); ++i) add(n, i);
    } else if (op == "BatchNormalization" || op == "LayerNormalization" || op == "InstanceNormalization" ||
               op == "GroupNormalization") {
      add(n, 1);
      add(n, 2);
    } else if (op == "PRelu") {
      add(n, 1);
    } else if ((op == "Add" || op == "Sub" || op == "Mul") && n.inputs.size() == 2) {
      const bool c0 = g.IsInitializer(n.inputs[0]), c1 = g.IsInitializer(n.inputs[1]);
      if (c0 == c1) continue;
      const size_t i = c0 ? 0 : 1;
      const Tensor* t = g.FindInitializer(n.inputs[i]);
      if (t->numel() > 1) add(n, i);
    }
  }
  return out;
}

ParamHook MaskHook(std::map<std::string, Tensor> masks) {
  return [masks = std::move(masks)](const std::string& name, Tensor& value) -> Status {
    auto it = masks.find(name);
    if (it == masks.end()) return Status::Ok();
    const Tensor& m = it->second;
    if (m.dtype() != DType::kF32 || m.shape() != value.shape())
      return InvalidArgument("mask for param '{}' is {} {} (expects float32 {})", name, DTypeName(m.dtype()),
                             ShapeToString(m.shape()), ShapeToString(value.shape()));
    float* v = value.data<float>();
    const float* mk = m.data<float>();
    for (int64_t i = 0; i < value.numel(); ++i) v[i] *= mk[i];
    return Status::Ok();
  };
}

Result<EvalResult> Evaluate(const Model& model, const Dataset& ds, int64_t batch_size, int num_threads) {
  GREENAI_ASSIGN_OR_RETURN(ModelIo io, FindModelIo(model));
  GREENAI_RETURN_IF_ERROR(CheckDatasetFits(io, ds));
  if (batch_size <= 0) return InvalidArgument("evaluate: batch size {} must be positive", batch_size);
  SessionOptions so;
  so.num_threads = num_threads;
  GREENAI_ASSIGN_OR_RETURN(auto sess, Session::Create(model, so));
  LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.prefetch = 1;
  GREENAI_ASSIGN_OR_RETURN(auto loader,
                           DataLoader::Create(std::shared_ptr<const Dataset>(&ds, [](const Dataset*) {}), lo));
  loader->StartEpoch(0);
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  for (;;) {
    GREENAI_ASSIGN_OR_RETURN(auto b, loader->Next());
    if (!b) break;
    GREENAI_ASSIGN_OR_RETURN(auto outs, sess->Run({{io.input, b->x}}));
    const Tensor& logits = outs[0];
    GREENAI_ASSIGN_OR_RETURN(LossResult l, SoftmaxCrossEntropy(logits, b->y));
    GREENAI_ASSIGN_OR_RETURN(int64_t c, CountCorrect(logits, b->y));
    loss_sum += l.loss * static_cast<double>(b->y.numel());
    correct += c;
    r.samples += b->y.numel();
  }
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.samples);
  r.mean_loss = loss_sum / static_cast<double>(r.samples);
  return r;
}

}  // namespace greenai::train
