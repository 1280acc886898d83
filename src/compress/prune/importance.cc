// Gradient and Taylor importance: |dL/dw| and |w * dL/dw| summed over a few labeled batches,
// with the backward graph from train/autodiff.h and the softmax cross-entropy seed from
// train/loss.h (forward session -> logits -> loss gradient -> backward session).
#include <algorithm>
#include <cmath>

#include "compress/prune/prune.h"
#include "runtime/session.h"
#include "train/autodiff.h"
#include "train/loss.h"

namespace greenai::compress {

Result<std::unordered_map<std::string, Tensor>> ComputeImportance(const Model& model,
                                                                  const std::vector<LabeledBatch>& batches,
                                                                  ImportanceKind kind,
                                                                  const std::vector<std::string>& exclude) {
  const Graph& g = *model.graph;
  if (batches.empty()) return InvalidArgument("prune: gradient/Taylor importance needs at least one labeled batch");
  if (g.outputs.empty()) return InvalidArgument("prune: the model has no output to take the loss of");
  std::vector<std::string> inputs;
  for (const auto& vi : g.inputs)
    if (!g.IsInitializer(vi.name)) inputs.push_back(vi.name);
  if (inputs.size() != 1)
    return InvalidArgument("prune: importance needs a model with one data input (it has {})", inputs.size());
  auto layers = FindPrunableLayers(g, exclude);
  if (layers.empty()) return InvalidArgument("prune: the model has no prunable Gemm/MatMul/Conv weight");
  std::vector<std::string> params;
  for (const auto& l : layers)
    if (std::find(params.begin(), params.end(), l.weight) == params.end()) params.push_back(l.weight);

  const std::string logits = g.outputs[0].name;
  GREENAI_ASSIGN_OR_RETURN(auto fwd, Session::Create(model));
  GREENAI_ASSIGN_OR_RETURN(train::GradientGraph gg, train::BuildGradientGraph(model, logits, params));
  GREENAI_ASSIGN_OR_RETURN(auto bwd, Session::Create(*gg.model));
  const size_t n_fwd_out = gg.model->graph->outputs.size() - gg.grads.size();

  std::unordered_map<std::string, Tensor> acc;
  for (const auto& p : params) {
    GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DType::kF32, g.FindInitializer(p)->shape()));
    acc[p] = t;
  }
  for (const auto& b : batches) {
    GREENAI_ASSIGN_OR_RETURN(auto outs, fwd->Run({{inputs[0], b.input}}));
    GREENAI_ASSIGN_OR_RETURN(train::LossResult lr, train::SoftmaxCrossEntropy(outs[0], b.labels));
    std::vector<std::pair<std::string, Tensor>> feeds = {{inputs[0], b.input}};
    if (!gg.seed.empty()) feeds.push_back({gg.seed, lr.grad});
    GREENAI_ASSIGN_OR_RETURN(auto gouts, bwd->Run(feeds));
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& gr = gouts[n_fwd_out + i];
      Tensor& a = acc[params[i]];
      if (gr.numel() != a.numel() || gr.dtype() != DType::kF32)
        return Internal("prune: gradient of '{}' has shape {} (weight {})", params[i], ShapeToString(gr.shape()),
                        ShapeToString(a.shape()));
      const float* gd = gr.data<float>();
      const float* wd = g.FindInitializer(params[i])->data<float>();
      float* ad = a.data<float>();
      for (int64_t j = 0; j < a.numel(); ++j)
        ad[j] += kind == ImportanceKind::kGradient ? std::fabs(gd[j]) : std::fabs(gd[j] * wd[j]);
    }
  }
  return acc;
}

}  // namespace greenai::compress
