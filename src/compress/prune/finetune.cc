#include "compress/prune/finetune.h"

#include <map>

#include "compress/prune/prune.h"
#include "train/trainer.h"

namespace greenai::compress {

Status Finetune(Model& model, const train::Dataset& train_set, const FinetuneOptions& o) {
  if (o.epochs <= 0) return Status::Ok();
  train::TrainOptions t;
  t.epochs = o.epochs;
  t.batch_size = o.batch;
  t.lr = o.lr;
  t.seed = o.seed;
  t.num_threads = o.threads;
  t.progress = o.progress;
  if (o.keep_zeros) {
    std::map<std::string, Tensor> masks;
    for (const auto& l : FindPrunableLayers(*model.graph, {})) {
      const Tensor& w = *model.graph->FindInitializer(l.weight);
      if (Sparsity(w) == 0) continue;
      GREENAI_ASSIGN_OR_RETURN(Tensor m, Tensor::Create(DType::kF32, w.shape()));
      for (int64_t i = 0; i < w.numel(); ++i) m.data<float>()[i] = w.data<float>()[i] != 0.f ? 1.f : 0.f;
      masks[l.weight] = m;
    }
    if (!masks.empty()) t.after_step = train::MaskHook(std::move(masks));
  }
  GREENAI_ASSIGN_OR_RETURN(auto trainer, train::Trainer::Create(model, t));
  GREENAI_RETURN_IF_ERROR(trainer->Fit(train_set).status());
  GREENAI_ASSIGN_OR_RETURN(auto tuned, trainer->ExportModel());
  model.graph = std::move(tuned->graph);
  return Status::Ok();
}

}  // namespace greenai::compress
