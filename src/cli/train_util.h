// Shared by the commands that train (train, distill): the model argument, which is either a
// built-in architecture name (train/archs.h, sized from the data set) or an ONNX file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"
#include "train/data.h"

namespace greenai::cli {

// "512,256" -> {512, 256}; "" -> {}. Each item a positive integer, else an error naming it.
Result<std::vector<int64_t>> ParseWidths(const std::string& s);

// `spec` ending in ".onnx" is loaded; anything else is built by train::BuildArch with the data
// set's sample shape and class count, `widths` (ParseWidths form) and `seed`.
Result<std::unique_ptr<Model>> LoadOrBuildModel(const std::string& spec, const train::Dataset& data,
                                                const std::string& widths, uint64_t seed);

}  // namespace greenai::cli
