// Built-in trainable architectures for `greenai train`: plain IR graphs with seeded initial
// weights, exportable to ONNX as they are (every op is standard ONNX).
//
//   ArchOptions o;  o.input_shape = {1, 28, 28};  o.num_classes = 10;  o.seed = 1;
//   auto m = BuildArch("cnn", o);    // input "input" [batch, C, H, W], output "logits" [batch, classes]
//
// Contract:
//  - Names: "mlp", "cnn", "resnet-mini", "transformer-tiny" (ArchNames()). Unknown names and
//    sizes an architecture cannot take (an image too small to pool, a patch that does not tile
//    the image) fail with InvalidArgument naming the architecture, the value and the rule.
//  - The batch dimension is symbolic ("batch"), so the same graph trains in batches of B and
//    evaluates the last partial batch.
//  - Inference form: BatchNormalization nodes have training_mode 0 and initializer running
//    statistics (mean 0, var 1); the Trainer switches them to training mode in its private
//    training graph. No Dropout (the CPU kernels have no random masks).
//  - Parameter names follow torch.onnx.export ("fc1.weight", "conv1.weight", "bn1.running_mean");
//    weights of Gemm layers are [out, in] with transB = 1, as PyTorch's Linear exports.
//  - Initialization: Kaiming-normal (fan_in, gain sqrt 2) for layers followed by ReLU, PyTorch's
//    default uniform(+-1/sqrt(fan_in)) for the classifier and biases; BN gamma 1, beta 0.
//    The same (arch, options) gives bit-identical models.
//  - Layouts:
//      mlp: Flatten, [Gemm, Relu] per hidden width, Gemm to classes. widths default {512, 256}.
//      cnn: VGG-style stages; each stage = two (Conv3x3 no bias, BN, Relu) then MaxPool 2x2;
//           then Flatten, Gemm to 128, Relu, Gemm to classes. widths = channels per stage,
//           default {16, 32} (92.4 % on Fashion-MNIST in 4 epochs; {32, 64} costs 4x the MACs).
//      resnet-mini: Conv3x3 stem (16) + BN + Relu, three basic blocks (16, 32, 64 channels;
//           stride 2 with a 1x1 Conv + BN shortcut when the shape changes), GlobalAveragePool,
//           Flatten, Gemm. widths overrides the three stage widths.
//      transformer-tiny: patch embedding (Conv, kernel = stride = patch), learned position
//           embedding, `layers` pre-LayerNorm encoder blocks (multi-head self-attention with
//           Softmax, Gelu MLP of 2x width), mean over tokens (GlobalAveragePool), LayerNorm,
//           Gemm. widths = {embedding dim} (default 64). Opset 20 (Gelu).
//  - Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai::train {

struct ArchOptions {
  Shape input_shape = {1, 28, 28};  // one sample: [C, H, W] (mlp also takes [F])
  int64_t num_classes = 10;
  std::vector<int64_t> widths;      // empty = the architecture's default (see above)
  int64_t layers = 2;               // transformer-tiny encoder blocks
  int64_t heads = 4;                // transformer-tiny attention heads
  int64_t patch = 7;                // transformer-tiny patch size
  uint32_t seed = 1;
};

const std::vector<std::string>& ArchNames();

Result<std::unique_ptr<Model>> BuildArch(const std::string& name, const ArchOptions& opts);

// The graph input and output names every built-in architecture uses.
inline constexpr const char* kArchInput = "input";
inline constexpr const char* kArchOutput = "logits";

}  // namespace greenai::train
