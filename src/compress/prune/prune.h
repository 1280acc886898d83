// Pruning passes (issue 6): weights greenai prunes are really gone or really skipped.
//
//  - PruneUnstructured: zeroes the lowest-importance weights of Gemm / MatMul (constant 2-D
//    weight) / Conv layers, per layer (each loses `sparsity` of its weights) or globally (one
//    threshold over all layers). Importance = |w| (magnitude), or caller-provided scores
//    (ComputeImportance: |dL/dw| "gradient", |w * dL/dw| "taylor"). The zeros are skipped at run
//    time by the sparse CPU kernels (backends/cpu/sparse_gemm.cc) once dense enough.
//  - PruneNM: N:M semi-structured masks (2:4 by default) along the reduction axis K of each
//    layer (Gemm/MatMul: per output column over K rows; Conv: over the flattened Ci*kh*kw of each
//    filter), keeping the N largest |w| of every aligned group of M.
//  - PruneStructured: removes whole Conv filters / Gemm-MatMul neurons and rewires their
//    consumers, using a channel-dependency analysis (ChannelGroups): BatchNormalization,
//    element-wise activations, pooling, per-channel constant Add/Mul, depthwise convs follow
//    the channels; the next Conv's input channels, the next Gemm/MatMul's rows (after Flatten a
//    channel is H*W rows) and Concat offsets are sliced; residual Add/Mul couple groups that
//    must lose the same channels (importance summed over the coupled producers).
//    Groups reaching a graph output (the classifier) or whose producer is excluded are kept.
//
// Contract: every function validates first and edits only on success; on error the model is
// unchanged and the message names the node, the bad value and the rule (e.g. asking for more
// sparsity than a layer has weights or channels, a grouped conv the analysis cannot follow).
// Initializers are replaced, never edited in place (clones share tensors).
// Preserves: nothing (pruning changes outputs on purpose), except that structured removal of
// channels whose filters are already zero (and carry no bias/BN shift) keeps outputs exactly.
// Thread safety: functions of their arguments; one model per call.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/ir.h"

namespace greenai::compress {

enum class PruneScope { kLayer, kGlobal };

struct PruneOptions {
  double sparsity = 0.5;               // fraction of weights (unstructured) or channels (structured)
  PruneScope scope = PruneScope::kLayer;
  std::vector<std::string> exclude;    // node names or weight names left dense
  // Importance per weight initializer name (same shape as the weight), higher = keep. Empty:
  // magnitude |w|. Filled by ComputeImportance for the gradient and Taylor criteria.
  std::unordered_map<std::string, Tensor> scores;
  int64_t min_weights = 0;             // layers with fewer weights are left alone (0 = none)
};

struct LayerPruneInfo {
  std::string node;         // node name (or "<op>#<index>")
  std::string op_type;
  std::string weight;       // initializer name
  int64_t weights = 0;      // elements
  int64_t zeros_before = 0, zeros_after = 0;
  int64_t channels_before = 0, channels_after = 0;  // structured: output channels/neurons
};

struct PruneReport {
  std::vector<LayerPruneInfo> layers;
  std::vector<std::string> notes;  // groups left alone and why (graph output, excluded)
  int64_t total_weights = 0, total_zeros_after = 0;
};

// A prunable layer: node index in graph order and the weight initializer it reads.
struct PrunableLayer {
  size_t node_index = 0;
  std::string weight;
  int64_t k_axis_len = 0;  // reduction length per output (Gemm/MatMul: K; Conv: Ci/g*kh*kw)
};
// Gemm (transA = 0), MatMul with a 2-D constant weight and Conv with a constant weight, f32,
// not excluded (by node or weight name) and with >= min_weights elements.
std::vector<PrunableLayer> FindPrunableLayers(const Graph& g, const std::vector<std::string>& exclude,
                                              int64_t min_weights = 0);

Result<PruneReport> PruneUnstructured(Model& model, const PruneOptions& options);
Result<PruneReport> PruneNM(Model& model, int n, int m, const PruneOptions& options);

struct StructuredOptions {
  double ratio = 0.5;                  // fraction of each group's channels removed (floor)
  std::vector<std::string> exclude;    // producer node names left whole
  // When > 0: the smallest uniform ratio (searched) that cuts at least this fraction of the
  // model's FLOPs (analyze cost model, batch 1); `ratio` is then an upper bound.
  double target_flops_reduction = 0;
  // Kept channel counts are rounded up to a multiple of this (8 matches oneDNN's blocked
  // layouts on AVX2, so the smaller layers also run at full vector width). 1 = exact.
  int64_t channel_multiple = 1;
};
Result<PruneReport> PruneStructured(Model& model, const StructuredOptions& options);

// One batch for importance scores: the model's first input and int64 class labels.
struct LabeledBatch {
  Tensor input;
  Tensor labels;
};
enum class ImportanceKind { kGradient, kTaylor };
// Sum over batches of |dL/dw| or |w * dL/dw| (L = softmax cross-entropy of the first graph
// output against the labels) for every weight of FindPrunableLayers(exclude).
Result<std::unordered_map<std::string, Tensor>> ComputeImportance(const Model& model,
                                                                  const std::vector<LabeledBatch>& batches,
                                                                  ImportanceKind kind,
                                                                  const std::vector<std::string>& exclude = {});

// Fraction of zeros in a tensor (f32).
double Sparsity(const Tensor& t);
// Zeros of every f32 initializer read as a Gemm/MatMul/Conv weight, and their total elements.
std::pair<int64_t, int64_t> CountWeightZeros(const Graph& g);

}  // namespace greenai::compress
