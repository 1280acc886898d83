// Default optimization pipeline (filled in by the passes work).
#include "passes/pass.h"

namespace greenai {

std::vector<std::unique_ptr<Pass>> DefaultPasses() { return {}; }

Status RunPasses(Model& model, const std::vector<std::unique_ptr<Pass>>& passes) {
  for (const auto& p : passes) GREENAI_RETURN_IF_ERROR(p->Run(model).WithContext(std::string(p->name())));
  return Status::Ok();
}

}  // namespace greenai
