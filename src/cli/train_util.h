// Shared by the commands that train (train, distill): the model argument, which is either a
// built-in architecture name (train/archs.h, sized from the data set) or an ONNX file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "energy/tracker.h"
#include "graph/ir.h"
#include "train/data.h"

namespace greenai::cli {

// "512,256" -> {512, 256}; "" -> {}. Each item a positive integer, else an error naming it.
Result<std::vector<int64_t>> ParseWidths(const std::string& s);

// `spec` ending in ".onnx" is loaded; anything else is built by train::BuildArch with the data
// set's sample shape and class count, `widths` (ParseWidths form) and `seed`.
Result<std::unique_ptr<Model>> LoadOrBuildModel(const std::string& spec, const train::Dataset& data,
                                                const std::string& widths, uint64_t seed);

// The energy meter of a training command: the detected sensors (RAPL where readable, else the
// estimator) sampled every second from construction to Stop().
class TrainingMeter {
 public:
  TrainingMeter();
  bool metered() const { return metered_; }
  // "J", or "J (estimated)" when any figure comes from the estimator.
  const std::string& label() const { return label_; }
  bool estimated() const { return label_ != "J"; }
  // Joules so far, for TrainOptions::joules; empty when there is no meter.
  std::function<double()> JoulesSoFar();
  // Total joules, or -1 without a meter.
  double Stop();

 private:
  std::unique_ptr<energy::Tracker> tracker_;
  bool metered_ = false;
  std::string label_ = "J";
};

}  // namespace greenai::cli
