// Hardware profiles and the predictions made from them (roofline time, energy per inference).
//
// Two kinds of profile:
//  - "device": peak arithmetic rate (f32; optionally f16 and int8) and memory bandwidth,
//    plus a TDP. Per node, roofline time = max(flops / peak(dtype), bytes / bandwidth)
//    ("compute" or "memory" bound); predicted energy = time * TDP (the device assumed
//    busy at its TDP for the node's roofline time). Nodes run one after another.
//  - "per-op": a per-operation energy table (Horowitz, ISSCC 2014, 45 nm). Energy per node
//    = macs * (mul + add of the compute dtype) + (flops - 2*macs) * add + bytes/4 * 32-bit
//    DRAM read (every byte read or written priced as a DRAM access). No time.
//    Dtype classes: f32/f64 -> fp32, f16/bf16 -> fp16, int8/uint8 -> int8 (the table's
//    8-bit mul and add; ONNX accumulates int8 in int32, so this is a lower bound),
//    other ints -> int32.
// Every figure derived here is a prediction, never a measurement.
//
// Profiles come from data/hardware/*.json, embedded into the binary at build time
// (cmake/analyze.cmake), plus "local" from <config_dir>/local.json as written by
// `greenai analyze --calibrate` (config_dir defaults to $XDG_CONFIG_HOME/greenai/hardware
// or ~/.config/greenai/hardware). Errors name the profile and the bad field.
// Thread safety: functions are reentrant.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analyze/cost_model.h"
#include "core/status.h"

namespace greenai::analyze {

struct HardwareProfile {
  std::string name;
  std::string kind;  // "device" or "per-op"
  std::string description;
  std::string source;  // datasheet citation, or how it was measured
  // device
  double peak_flops_f32 = 0;  // FLOP/s
  double peak_flops_f16 = 0;  // FLOP/s, 0 = use f32
  double peak_ops_int8 = 0;   // op/s, 0 = use f32
  double bandwidth = 0;       // bytes/s
  double tdp_w = 0;           // 0 = no energy prediction
  // per-op (pJ), keys as in the JSON "energy_pj" object
  std::map<std::string, double> energy_pj;

  bool is_device() const { return kind == "device"; }
};

// Parses one profile JSON document. `origin` names it in errors ("data/hardware/x.json").
Result<HardwareProfile> ParseProfile(std::string_view json, std::string_view origin);
// The JSON document for a profile (round-trips through ParseProfile).
std::string ProfileToJson(const HardwareProfile& p);

// Profiles compiled into the binary, sorted by name.
Result<std::vector<HardwareProfile>> BuiltinProfiles();
// Default config folder for "local": $XDG_CONFIG_HOME/greenai/hardware, else
// $HOME/.config/greenai/hardware ("" when neither is set).
std::string DefaultConfigDir();
// Builtin profiles plus <config_dir>/local.json when it exists (a broken local.json is an error).
Result<std::vector<HardwareProfile>> AvailableProfiles(const std::string& config_dir);
// NotFound lists the available names.
Result<HardwareProfile> FindProfile(const std::string& name, const std::string& config_dir);

struct NodePrediction {
  double time_s = 0;        // roofline time (device profiles; 0 for per-op)
  std::string bound;        // "compute", "memory", or "" (per-op / nothing to do)
  double energy_j = 0;
};
struct ModelPrediction {
  std::vector<NodePrediction> nodes;  // parallel to ModelCostReport::nodes
  double time_s = 0;
  double energy_j = 0;
  bool has_time = false;
  bool has_energy = false;
  std::string method;  // one line saying how the figures were predicted
};

NodePrediction PredictNode(const HardwareProfile& p, const NodeCostReport& n);
ModelPrediction Predict(const HardwareProfile& p, const ModelCostReport& r);

}  // namespace greenai::analyze
