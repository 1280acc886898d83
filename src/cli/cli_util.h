// Helpers shared by the greenai subcommands: the one-line error format, NAME=FILE
// arguments, loading tensors by file extension, short tensor previews.
//
// Contract:
//  - Errors go to stderr as exactly one line "greenai <cmd>: <message>" (newlines in the
//    message are flattened); the command then exits with a non-zero code.
//  - Functions never throw; failures come back as Status/Result naming the argument or file.
// Thread safety: all functions are reentrant (they write only to stderr/stdout).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai::cli {

// Prints "greenai <cmd>: <message>" on stderr and returns `exit_code` (default 1) so a
// callback can write `*exit_code = Fail("run", st);`.
int Fail(std::string_view cmd, const Status& st, int exit_code = 1);
int Fail(std::string_view cmd, std::string_view message, int exit_code = 1);

// "x=data/x.npy" -> {"x", "data/x.npy"}. The name is everything before the first '='
// (value names may not contain '=' in practice; file paths may). Error names the argument.
Result<std::pair<std::string, std::string>> ParseNameEqualsFile(std::string_view arg, std::string_view option);

// Loads a tensor from FILE.npy (NumPy) or FILE.pb (ONNX TensorProto) by extension.
Result<Tensor> LoadTensorFile(const std::string& path);

// "[1.5, 2, 3, ... ]": the first `max_values` elements in row-major order.
std::string TensorPreview(const Tensor& t, int max_values = 8);

// A value name made safe as a file name: every character outside [A-Za-z0-9._-] becomes '_'.
std::string SafeFileName(std::string_view name);

}  // namespace greenai::cli
