#include "cli/cli_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "core/npy.h"
#include "graph/tensor_proto.h"

namespace greenai::cli {

int Fail(std::string_view cmd, std::string_view message, int exit_code) {
  std::string m(message);
  std::replace(m.begin(), m.end(), '\n', ' ');
  std::fprintf(stderr, "greenai %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(), m.c_str());
  return exit_code;
}

int Fail(std::string_view cmd, const Status& st, int exit_code) { return Fail(cmd, st.message(), exit_code); }

Result<std::pair<std::string, std::string>> ParseNameEqualsFile(std::string_view arg, std::string_view option) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == arg.size())
    return InvalidArgument("{} '{}': expected NAME=FILE", option, arg);
  return std::make_pair(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
}

namespace {
template <typename T>
std::string FormatValue(T x) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return fmt::format("{:.6g}", static_cast<float>(x));
  } else if constexpr (std::is_same_v<T, bool>) {
    return x ? "true" : "false";
  } else if constexpr (std::is_floating_point_v<T>) {
    return fmt::format("{:.6g}", x);
  } else {
    return fmt::format("{}", static_cast<std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>(x));
  }
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Result<Tensor> LoadTensorFile(const std::string& path) {
  if (EndsWith(path, ".npy")) return LoadNpy(path);
  if (EndsWith(path, ".pb")) return LoadTensorProtoFile(path);
  return InvalidArgument("'{}': unknown tensor file type (expects .npy or .pb)", path);
}

std::string TensorPreview(const Tensor& t, int max_values) {
  std::string out = "[";
  const int64_t n = std::min<int64_t>(t.numel(), max_values);
  for (int64_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    if (t.dtype() == DType::kString) {
      out += "\"" + t.data<std::string>()[i] + "\"";
      continue;
    }
    GREENAI_DISPATCH_NUMERIC(t.dtype(), T, { out += FormatValue(t.data<T>()[i]); });
  }
  if (t.numel() > n) out += ", ...";
  out += "]";
  return out;
}

std::string SafeFileName(std::string_view name) {
  std::string s(name);
  for (char& c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s;
}

}  // namespace greenai::cli
