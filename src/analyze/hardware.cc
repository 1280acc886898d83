// Hardware profiles and predictions: see analyze/hardware.h.
#include "analyze/hardware.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "analyze/embedded_profiles.h"
#include "core/file_util.h"

namespace greenai::analyze {

namespace {

using json = nlohmann::json;

// A required positive number, or an optional one (0 when absent).
Status ReadNumber(const json& j, const char* key, bool required, std::string_view origin, double* out) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return InvalidArgument("hardware profile {}: field '{}' is missing (required)", origin, key);
    *out = 0;
    return Status::Ok();
  }
  if (!it->is_number() || it->get<double>() <= 0)
    return InvalidArgument("hardware profile {}: field '{}' is {} (expects a positive number)", origin, key,
                           it->dump());
  *out = it->get<double>();
  return Status::Ok();
}

const char* kPerOpKeys[] = {"fp32_mul", "fp32_add", "fp16_mul", "fp16_add", "int32_mul",
                            "int32_add", "int8_mul", "int8_add", "dram_read_32bit"};

enum class DClass { kFp32, kFp16, kInt8, kInt32 };
DClass ClassOf(DType t) {
  switch (t) {
    case DType::kF16:
    case DType::kBF16: return DClass::kFp16;
    case DType::kI8:
    case DType::kU8: return DClass::kInt8;
    case DType::kI16:
    case DType::kU16:
    case DType::kI32:
    case DType::kU32:
    case DType::kI64:
    case DType::kU64:
    case DType::kBool: return DClass::kInt32;
    default: return DClass::kFp32;
  }
}
const char* Prefix(DClass c) {
  switch (c) {
    case DClass::kFp16: return "fp16";
    case DClass::kInt8: return "int8";
    case DClass::kInt32: return "int32";
    default: return "fp32";
  }
}

double Pj(const HardwareProfile& p, const std::string& key) {
  auto it = p.energy_pj.find(key);
  return it == p.energy_pj.end() ? 0 : it->second;
}

double PeakFor(const HardwareProfile& p, DType t) {
  switch (ClassOf(t)) {
    case DClass::kFp16: return p.peak_flops_f16 > 0 ? p.peak_flops_f16 : p.peak_flops_f32;
    case DClass::kInt8: return p.peak_ops_int8 > 0 ? p.peak_ops_int8 : p.peak_flops_f32;
    default: return p.peak_flops_f32;
  }
}

}  // namespace

Result<HardwareProfile> ParseProfile(std::string_view text, std::string_view origin) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgument("hardware profile {}: not a JSON object", origin);
  HardwareProfile p;
  for (auto [key, dst] : {std::pair<const char*, std::string*>{"name", &p.name}, {"kind", &p.kind},
                          {"description", &p.description}, {"source", &p.source}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
      return InvalidArgument("hardware profile {}: field '{}' must be a non-empty string", origin, key);
    *dst = it->get<std::string>();
  }
  if (p.kind == "device") {
    GREENAI_RETURN_IF_ERROR(ReadNumber(j, "peak_flops_f32", true, origin, &p.peak_flops_f32));
    GREENAI_RETURN_IF_ERROR(ReadNumber(j, "peak_flops_f16", false, origin, &p.peak_flops_f16));
    GREENAI_RETURN_IF_ERROR(ReadNumber(j, "peak_ops_int8", false, origin, &p.peak_ops_int8));
    GREENAI_RETURN_IF_ERROR(ReadNumber(j, "memory_bandwidth_bytes_per_s", true, origin, &p.bandwidth));
    GREENAI_RETURN_IF_ERROR(ReadNumber(j, "tdp_w", false, origin, &p.tdp_w));
  } else if (p.kind == "per-op") {
    auto it = j.find("energy_pj");
    if (it == j.end() || !it->is_object())
      return InvalidArgument("hardware profile {}: field 'energy_pj' must be an object (kind per-op)", origin);
    for (const char* key : kPerOpKeys)
      GREENAI_RETURN_IF_ERROR(ReadNumber(*it, key, true, origin, &p.energy_pj[key]));
    for (auto e = it->begin(); e != it->end(); ++e)
      if (!p.energy_pj.count(e.key()))
        GREENAI_RETURN_IF_ERROR(ReadNumber(*it, e.key().c_str(), true, origin, &p.energy_pj[e.key()]));
  } else {
    return InvalidArgument("hardware profile {}: kind '{}' is unknown (expects device or per-op)", origin, p.kind);
  }
  return p;
}

std::string ProfileToJson(const HardwareProfile& p) {
  nlohmann::ordered_json j;
  j["name"] = p.name;
  j["kind"] = p.kind;
  j["description"] = p.description;
  if (p.is_device()) {
    j["peak_flops_f32"] = p.peak_flops_f32;
    if (p.peak_flops_f16 > 0) j["peak_flops_f16"] = p.peak_flops_f16;
    if (p.peak_ops_int8 > 0) j["peak_ops_int8"] = p.peak_ops_int8;
    j["memory_bandwidth_bytes_per_s"] = p.bandwidth;
    if (p.tdp_w > 0) j["tdp_w"] = p.tdp_w;
  } else {
    j["energy_pj"] = p.energy_pj;
  }
  j["source"] = p.source;
  return j.dump(2) + "\n";
}

Result<std::vector<HardwareProfile>> BuiltinProfiles() {
  std::vector<HardwareProfile> out;
  for (size_t i = 0; i < internal::kNumEmbeddedProfiles; ++i) {
    const auto& e = internal::kEmbeddedProfiles[i];
    GREENAI_ASSIGN_OR_RETURN(HardwareProfile p, ParseProfile(e.json, "data/hardware/" + std::string(e.file)));
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string DefaultConfigDir() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/greenai/hardware";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/greenai/hardware";
  return "";
}

Result<std::vector<HardwareProfile>> AvailableProfiles(const std::string& config_dir) {
  GREENAI_ASSIGN_OR_RETURN(std::vector<HardwareProfile> all, BuiltinProfiles());
  if (config_dir.empty()) return all;
  const std::string path = config_dir + "/local.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return all;
  GREENAI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 1 << 20));
  GREENAI_ASSIGN_OR_RETURN(HardwareProfile local, ParseProfile(text, path));
  if (local.name != "local")
    return InvalidArgument("hardware profile {}: name is '{}' (expects 'local')", path, local.name);
  std::erase_if(all, [](const HardwareProfile& p) { return p.name == "local"; });
  all.insert(all.begin(), std::move(local));
  return all;
}

Result<HardwareProfile> FindProfile(const std::string& name, const std::string& config_dir) {
  GREENAI_ASSIGN_OR_RETURN(std::vector<HardwareProfile> all, AvailableProfiles(config_dir));
  std::string names;
  for (auto& p : all) {
    if (p.name == name) return std::move(p);
    names += (names.empty() ? "" : ", ") + p.name;
  }
  std::string hint = name == "local" ? " (run `greenai analyze --calibrate` to measure this machine)" : "";
  return NotFound("hardware profile '{}' does not exist{}; available: {}", name, hint, names);
}

NodePrediction PredictNode(const HardwareProfile& p, const NodeCostReport& n) {
  NodePrediction np;
  if (p.is_device()) {
    const double peak = PeakFor(p, n.compute_dtype);
    const double tc = peak > 0 ? n.flops / peak : 0;
    const double tm = p.bandwidth > 0 ? n.bytes() / p.bandwidth : 0;
    np.time_s = std::max(tc, tm);
    if (np.time_s > 0) np.bound = tc >= tm ? "compute" : "memory";
    np.energy_j = np.time_s * p.tdp_w;
    return np;
  }
  const std::string pre = Prefix(ClassOf(n.compute_dtype));
  const double mul = Pj(p, pre + "_mul"), add = Pj(p, pre + "_add");
  const double other_flops = std::max(0.0, n.flops - 2 * n.macs);
  const double pj = n.macs * (mul + add) + other_flops * add + n.bytes() / 4.0 * Pj(p, "dram_read_32bit");
  np.energy_j = pj * 1e-12;
  return np;
}

ModelPrediction Predict(const HardwareProfile& p, const ModelCostReport& r) {
  ModelPrediction mp;
  for (const auto& n : r.nodes) {
    mp.nodes.push_back(PredictNode(p, n));
    mp.time_s += mp.nodes.back().time_s;
    mp.energy_j += mp.nodes.back().energy_j;
  }
  if (p.is_device()) {
    mp.has_time = true;
    mp.has_energy = p.tdp_w > 0;
    mp.method = mp.has_energy
                    ? "predicted: roofline time per node max(FLOPs/peak, bytes/bandwidth), summed; energy = time x TDP"
                    : "predicted: roofline time per node max(FLOPs/peak, bytes/bandwidth), summed; no TDP, no energy";
  } else {
    mp.has_energy = true;
    mp.method = "predicted: per-operation energies (MACs as mul+add by dtype, other FLOPs as adds, every byte "
                "read or written as a 32-bit DRAM read); no time";
  }
  return mp;
}

}  // namespace greenai::analyze
