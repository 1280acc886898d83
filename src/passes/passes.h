// The generic graph passes (see pass.h for the Pass contract) and the helpers they share.
//
//  - ConstantFolding (kExact): runs nodes whose inputs are all constant with the CPU
//    reference kernels and replaces them by initializers; folds Shape/Size of a value whose
//    static shape is fully known. Skips nondeterministic ops, nodes with subgraphs, nodes
//    producing graph outputs, and folds that would grow the model by more than
//    kMaxFoldGrowthBytes (e.g. ConstantOfShape of a large shape).
//  - DeadCodeElimination (kExact): removes nodes no graph output needs and initializers
//    nothing reads (initializers that are also graph inputs stay: they are interface).
//  - ConvBatchNormFolding (kTolerance): Conv -> BatchNormalization (inference form, constant
//    parameters, Conv output read only by the BN) becomes one Conv with rescaled weights
//    and a bias.
//  - MatMulAddFusion (kTolerance): MatMul(A, W) + b with W a constant 2-D weight and b a
//    constant bias broadcast along the last axis becomes Gemm(A, W, b) when A is 2-D, and
//    Reshape(A, [-1, K]) -> Gemm -> Reshape(A.dims[:-1] + [N]) when A has rank >= 3 and a
//    fully known shape (the Reshapes run as views).
//  - ActivationFusion (kExact): a float32 Conv/Gemm followed by a simple activation (Relu,
//    LeakyRelu, Sigmoid, Tanh, Clip with constant bounds) that is the sole reader of its
//    output becomes the Conv/Gemm node carrying the activation in runtime-only attributes
//    (kAttrActivation, kAttrActivationParams; GeluFusion adds "Gelu"). Such a graph is NOT
//    valid ONNX: call UnfuseActivations before exporting. The kernel registry applies the activation
//    (backends/cpu/activation_adapter.cc): oneDNN convolutions as an exact post-op, every
//    other kernel through an adapter that runs the activation's own kernel after it.
//  - ResidualFusion (kExact): a float32 Conv (no fused activation, no layout mark) whose output
//    is read only by an Add with another activation of the same shape (a residual branch: no
//    broadcasting, not a constant) becomes one ai.greenai ConvAdd (ops/conv_add.h), carrying
//    the activation that is the Add's sole reader (Relu, LeakyRelu, Clip, Sigmoid, Tanh) as
//    ActivationFusion would. oneDNN adds Z as a sum post-op, in place in Z's buffer where Z
//    dies there, so the Add and activation passes over memory disappear. Runtime-only: the
//    graph is NOT valid ONNX afterwards. On by default where f32 convolutions run on oneDNN
//    in NHWC (PipelineOptions::residual_fusion).
//
// All passes leave the graph topologically sorted, keep value names unique and never edit
// an initializer in place (a new initializer is added; the old one is dropped by DCE when
// unused), because tensors may be shared with other graphs (Graph::Clone shares them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/cpu_features.h"
#include "passes/pass.h"

namespace greenai {

inline constexpr char kAttrActivation[] = "greenai.activation";               // string: op type
inline constexpr char kAttrActivationParams[] = "greenai.activation_params";  // floats
// Folding that would add more than this many bytes of initializers over what it removes is skipped.
inline constexpr size_t kMaxFoldGrowthBytes = size_t{4} << 20;

class ConstantFolding : public Pass {
 public:
  std::string_view name() const override { return "ConstantFolding"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int folded() const { return folded_; }  // nodes replaced by initializers in the last Run

 private:
  int folded_ = 0;
};

class DeadCodeElimination : public Pass {
 public:
  std::string_view name() const override { return "DeadCodeElimination"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
};

class ConvBatchNormFolding : public Pass {
 public:
  std::string_view name() const override { return "ConvBatchNormFolding"; }
  Preserves preserves() const override { return Preserves::kTolerance; }
  Status Run(Model& model) override;
  int folded() const { return folded_; }

 private:
  int folded_ = 0;
};

class MatMulAddFusion : public Pass {
 public:
  std::string_view name() const override { return "MatMulAddFusion"; }
  Preserves preserves() const override { return Preserves::kTolerance; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

class ActivationFusion : public Pass {
 public:
  std::string_view name() const override { return "ActivationFusion"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

class ResidualFusion : public Pass {
 public:
  std::string_view name() const override { return "ResidualFusion"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

// ChannelsLastLayout (kExact, channels_last.cc): QLinearConv / 8-bit MaxPool chains keep
// their activations NHWC (ops/layout.h marks the nodes; elementwise ops in between
// follow), with Transpose nodes only at the region's edges. Last in the pipeline: the marks
// are runtime-only, so the graph is NOT valid ONNX afterwards.
class ChannelsLastLayout : public Pass {
 public:
  // float32: also float32 2-D Conv with a constant weight and float32 pooling (AVX-512 CPUs,
  // where oneDNN's f32 convolutions compute in nhwc; PipelineOptions::channels_last_f32).
  explicit ChannelsLastLayout(bool float32 = false) : float32_(float32) {}
  std::string_view name() const override { return "ChannelsLastLayout"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int marked() const { return marked_; }  // nodes marked NHWC in the last Run

 private:
  bool float32_;
  int marked_ = 0;
};

// GeluFusion (kTolerance, gelu_fusion.cc): the erf GELU as torch exports it below opset 20
// (Div by sqrt 2, Erf, Add 1, Mul by x, Mul by 0.5) on a float32 Gemm's output (or on a
// Reshape of it) becomes the Gemm carrying greenai.activation = "Gelu".
class GeluFusion : public Pass {
 public:
  std::string_view name() const override { return "GeluFusion"; }
  Preserves preserves() const override { return Preserves::kTolerance; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

// BlockedLayout (kExact, blocked_layout.cc): float32 Conv / pooling chains keep their
// activations in the 8-channel blocked layout NCHW8c (ops/layout.h), with Reshape+Transpose
// pairs only at the region's edges. Runs after ChannelsLastLayout; runtime-only marks, so the
// graph is NOT valid ONNX afterwards.
class BlockedLayout : public Pass {
 public:
  std::string_view name() const override { return "BlockedLayout"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int marked() const { return marked_; }  // nodes marked NCHW8c in the last Run

 private:
  int marked_ = 0;
};

// QdqFusion (kTolerance, qdq_fusion.cc): QuantizeLinear/DequantizeLinear patterns around
// Conv, MatMul and Gemm (with an optional Relu) become integer ops (QLinearConv,
// QLinearMatMul, or MatMulInteger + int32 bias Add + QuantizeLinear requantization), and
// DQ -> MaxPool/Reshape/Flatten/Transpose/Squeeze/Unsqueeze -> Q with equal parameters runs
// on the integers. Results stay within one quantization step of the unfused graph. Runs
// before constant folding (which would otherwise fold the weight DequantizeLinear nodes).
class QdqFusion : public Pass {
 public:
  std::string_view name() const override { return "QdqFusion"; }
  Preserves preserves() const override { return Preserves::kTolerance; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

// QGemmFusion (kExact, qgemm_fusion.cc): MatMulInteger (constant 2-D B) -> Add(constant int32
// bias [N]) -> QuantizeLinear (constant scale and 8-bit zero point, per tensor or per column),
// the chain QdqFusion writes for a quantized MatMul/Gemm, becomes one runtime-internal
// ai.greenai QGemm node (ops/qgemm.h) when the int32 intermediates have no other reader; the
// Add is optional. Runs right after QdqFusion.
class QGemmFusion : public Pass {
 public:
  std::string_view name() const override { return "QGemmFusion"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

// WeightOnlyFusion (kExact under the reference kernels, weight_only_fusion.cc): the int4
// weight expansion written by `greenai quantize --mode int4-weight` (BitShift, Unsqueeze +
// Concat, Cast, Sub 8, Reshape, Mul scales, Reshape [, Slice]) feeding input B of a MatMul or
// a Gemm (transA = transB = 0) becomes one runtime-internal ai.greenai MatMulInt4 node
// (ops/weight_only.h) reading the packed uint8 weight and the scales directly, so kernels keep
// the weight 4-bit. Any deviation from that exact form leaves the graph alone. Runs before
// constant folding, which would otherwise expand the weight to float32 at plan time.
class WeightOnlyFusion : public Pass {
 public:
  std::string_view name() const override { return "WeightOnlyFusion"; }
  Preserves preserves() const override { return Preserves::kExact; }
  Status Run(Model& model) override;
  int fused() const { return fused_; }

 private:
  int fused_ = 0;
};

// Splits every node carrying kAttrActivation back into the standard op plus the activation
// node, so the graph is valid ONNX again. Exact inverse of ActivationFusion.
Status UnfuseActivations(Model& model);

struct PipelineOptions {
  bool constant_folding = true;
  bool conv_bn_folding = true;
  bool matmul_add_fusion = true;
  bool fuse_activations = true;   // ActivationFusion
  bool gelu_fusion = true;        // GeluFusion, after ActivationFusion
  bool qdq_fusion = true;         // QdqFusion, first in the pipeline
  bool qgemm_fusion = true;       // QGemmFusion, right after QdqFusion
  bool weight_only_fusion = true; // WeightOnlyFusion, before constant folding
  // ResidualFusion, after ActivationFusion: where ChannelsLastLayout takes float32 (the fused
  // node's fast kernel is oneDNN's; the AVX2 blocked kernels do not take it).
  bool residual_fusion = HostCpu().avx512f;
  bool channels_last = true;      // ChannelsLastLayout, after the fusions
  // ChannelsLastLayout also takes float32 convolutions and pools: on AVX-512 CPUs, where
  // oneDNN's avx512 f32 convolutions compute in nhwc (core/cpu_features.h).
  bool channels_last_f32 = HostCpu().avx512f;
  // BlockedLayout, last; off by default on AVX-512 CPUs, where oneDNN runs the 8-channel
  // blocked layout with its avx2 kernels only (core/cpu_features.h).
  bool blocked_layout = !HostCpu().avx512f;
};
// DefaultPasses() == DefaultPasses(PipelineOptions{}).
std::vector<std::unique_ptr<Pass>> DefaultPasses(const PipelineOptions& opts);

// --- helpers shared by the passes (graph_util.cc) ---

// Opset of the default domain (17 when the model imports none).
int64_t DefaultOpset(const Model& model);
// A value that is constant for every run: an initializer that no graph input shadows.
bool IsConstant(const Graph& graph, const std::string& name);
// Every value `node` reads: its inputs plus values its subgraphs read from outer scope.
std::vector<std::string> NodeReads(const Node& node);
// Nodes reading each value (graph outputs not included).
std::unordered_map<std::string, std::vector<Node*>> BuildConsumers(const Graph& graph);

}  // namespace greenai
