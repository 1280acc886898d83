// Default optimization pipeline (see pass.h and passes.h).
#include "passes/passes.h"

namespace greenai {

std::vector<std::unique_ptr<Pass>> DefaultPasses(const PipelineOptions& opts) {
  std::vector<std::unique_ptr<Pass>> p;
  if (opts.qdq_fusion) p.push_back(std::make_unique<QdqFusion>());
  if (opts.qgemm_fusion) p.push_back(std::make_unique<QGemmFusion>());
  if (opts.weight_only_fusion) p.push_back(std::make_unique<WeightOnlyFusion>());
  if (opts.constant_folding) p.push_back(std::make_unique<ConstantFolding>());
  p.push_back(std::make_unique<DeadCodeElimination>());
  if (opts.conv_bn_folding) p.push_back(std::make_unique<ConvBatchNormFolding>());
  if (opts.matmul_add_fusion) p.push_back(std::make_unique<MatMulAddFusion>());
  if (opts.fuse_activations) p.push_back(std::make_unique<ActivationFusion>());
  if (opts.gelu_fusion) p.push_back(std::make_unique<GeluFusion>());
  if (opts.residual_fusion) p.push_back(std::make_unique<ResidualFusion>());
  p.push_back(std::make_unique<DeadCodeElimination>());
  if (opts.channels_last) p.push_back(std::make_unique<ChannelsLastLayout>(opts.channels_last_f32));
  if (opts.blocked_layout) p.push_back(std::make_unique<BlockedLayout>());
  return p;
}

std::vector<std::unique_ptr<Pass>> DefaultPasses() { return DefaultPasses(PipelineOptions{}); }

Status RunPasses(Model& model, const std::vector<std::unique_ptr<Pass>>& passes) {
  for (const auto& p : passes) GREENAI_RETURN_IF_ERROR(p->Run(model).WithContext(std::string(p->name())));
  return Status::Ok();
}

}  // namespace greenai
