// Shared pieces of the quantization rewrites (private to src/compress/quantize).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compress/quantize/quantize.h"

namespace greenai::compress::qi {

// A node to quantize: its weight input, the weight axis of output channels, its bias input.
struct Target {
  const Node* node = nullptr;
  int weight_input = 1;
  int64_t axis = 0;
  int bias_input = -1;
  int64_t out_channels = 0;
};

bool IsDefaultDomain(const Node& n);
// nullopt (with *why) when `n` is of a quantizable type but cannot be quantized; nullopt
// with empty *why when it is not of a quantizable type at all.
std::optional<Target> Classify(const Graph& g, const Node& n, QuantMode mode, std::string* why);
std::vector<Target> SelectTargets(const Graph& g, const QuantizeOptions& opts, QuantizeReport* report);

QParams WeightParams(const Tensor& w, int64_t axis, bool per_channel, bool symmetric, int bits = 8);
Tensor QuantizeWeight(const Tensor& w, int64_t axis, const QParams& p);
float DequantizedWeightAt(const Tensor& q, const QParams& p, size_t channel, int64_t k);

// Mean of each target's activation input per input channel (axis 1 of a Conv input, last
// axis of a MatMul/Gemm input) over the calibration data, keyed by node name.
Result<std::map<std::string, std::vector<double>>> InputMeans(const Model& m, const std::vector<Target>& targets,
                                                              const std::vector<Feeds>& batches);
// Per output channel: sum over the weight's contraction of (W_q - W) * mean(x), the mean
// output shift weight rounding causes (ignoring Conv padding), to subtract from the bias.
std::vector<float> WeightErrorTimesMean(const Tensor& w, const Tensor& wq, const QParams& p, const Target& t,
                                        const std::vector<double>& mean);

Status RewriteStatic(Model& m, const QuantizeOptions& opts, const std::vector<Feeds>& calibration,
                     QuantizeReport* report);
Status RewriteDynamic(Model& m, const QuantizeOptions& opts, QuantizeReport* report);
Status ConvertPrecision(Model& m, DType to, QuantizeReport* report);
Status RewriteInt4Weights(Model& m, const QuantizeOptions& opts, QuantizeReport* report);

}  // namespace greenai::compress::qi
