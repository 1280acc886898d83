#include "backends/cpu/kernel.h"

#include <algorithm>

#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {

// AVX2 int8 MatMulInteger and int32 requantization (int8_gemm_avx2.cc); declared here rather
// than in kernel.h so adding the family does not rebuild every kernel.
void AddInt8FastKernels(std::vector<KernelDef>& defs);
// Same reason: ai.greenai MatMulInt4's reference (ref_weight_only.cc) and the int4 / f16 / bf16
// weight GEMM kernels (lowp_kernels.cc).
void AddRefWeightOnlyKernels(std::vector<KernelDef>& defs);
void AddLowpKernels(std::vector<KernelDef>& defs);
// ai.greenai QGemm: reference + int8_gemm.h kernel (ref_qgemm.cc), AVX2 (int8_qgemm_avx2.cc).
void AddRefQGemmKernels(std::vector<KernelDef>& defs);
void AddQGemmFastKernels(std::vector<KernelDef>& defs);
void AddInt8PoolKernels(std::vector<KernelDef>& defs);
void AddBlockedPoolKernels(std::vector<KernelDef>& defs);
void AddBlockedConvKernels(std::vector<KernelDef>& defs);
void AddWinogradConvKernels(std::vector<KernelDef>& defs);
void AddPackedGemmKernels(std::vector<KernelDef>& defs);
void AddLayoutKernels(std::vector<KernelDef>& defs);
Result<CreatedKernel> CreateLaidOutKernel(const KernelInfo& info, bool reference_only);
Result<CreatedKernel> CreateFusedActivationKernel(const KernelInfo& info, bool reference_only);

namespace {
std::string_view NormDomain(std::string_view d) { return d == "ai.onnx" ? std::string_view() : d; }
}

KernelRegistry::KernelRegistry() {
  AddRefElementwiseKernels(defs_);
  AddRefReduceKernels(defs_);
  AddRefTensorKernels(defs_);
  AddRefNnKernels(defs_);
  AddRefQuantKernels(defs_);
  AddRefControlKernels(defs_);
  AddRefMiscKernels(defs_);
  AddOneDnnKernels(defs_);
  AddFastElementwiseKernels(defs_);
  AddRefTrainingKernels(defs_);
  AddOneDnnTrainingKernels(defs_);
  AddSparseKernels(defs_);
  AddInt8FastKernels(defs_);
  AddRefWeightOnlyKernels(defs_);
  AddLowpKernels(defs_);
  AddRefQGemmKernels(defs_);
  AddQGemmFastKernels(defs_);
  AddInt8PoolKernels(defs_);
  AddBlockedPoolKernels(defs_);
  AddBlockedConvKernels(defs_);
  AddWinogradConvKernels(defs_);
  AddPackedGemmKernels(defs_);
  AddLayoutKernels(defs_);
}

const KernelRegistry& KernelRegistry::Get() {
  static const KernelRegistry reg;
  return reg;
}

std::vector<const KernelDef*> KernelRegistry::Candidates(std::string_view domain, std::string_view op) const {
  domain = NormDomain(domain);
  std::vector<const KernelDef*> out;
  for (const auto& d : defs_)
    if (d.op == op && NormDomain(d.domain) == domain) out.push_back(&d);
  std::stable_sort(out.begin(), out.end(), [](const KernelDef* a, const KernelDef* b) { return a->priority > b->priority; });
  return out;
}

Result<CreatedKernel> CreateKernel(const KernelInfo& info, bool reference_only) {
  if (info.node.HasAttr(kAttrActivation)) return CreateFusedActivationKernel(info, reference_only);
  if (HasLayoutMark(info.node)) return CreateLaidOutKernel(info, reference_only);
  auto cands = KernelRegistry::Get().Candidates(info.node.domain, info.node.op_type);
  if (cands.empty())
    return Unimplemented("{}: no CPU kernel for op '{}'{}", info.node.Describe(), info.node.op_type,
                         info.node.domain.empty() ? "" : " in domain '" + info.node.domain + "'");
  Status last;
  for (const KernelDef* d : cands) {
    if (reference_only && d->priority != 0) continue;
    auto k = d->create(info);
    if (k.ok()) return CreatedKernel{std::move(k).value(), d->name};
    if (k.status().code() != StatusCode::kUnimplemented) return k.status();
    last = k.status();
  }
  if (last.ok()) last = Unimplemented("{}: no reference kernel", info.node.Describe());
  return last;
}

}  // namespace greenai
