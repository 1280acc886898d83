// Training checkpoints: see train/checkpoint.h.
#include "train/checkpoint.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "graph/onnx_io.h"

namespace greenai::train {

namespace {
constexpr const char* kStateKey = "greenai.train_state";
constexpr const char* kStepKey = "greenai.train_step";

std::string FindMeta(const Model& m, const std::string& key) {
  for (const auto& [k, v] : m.metadata)
    if (k == key) return v;
  return "";
}
void SetMeta(Model& m, const std::string& key, std::string value) {
  for (auto& [k, v] : m.metadata)
    if (k == key) {
      v = std::move(value);
      return;
    }
  m.metadata.emplace_back(key, std::move(value));
}
}  // namespace

std::string CheckpointModelPath(const std::string& prefix) { return prefix + ".onnx"; }
std::string CheckpointStatePath(const std::string& prefix) { return prefix + ".state"; }

bool CheckpointExists(const std::string& prefix) {
  std::error_code ec;
  return std::filesystem::exists(CheckpointModelPath(prefix), ec) &&
         std::filesystem::exists(CheckpointStatePath(prefix), ec);
}

Status SaveCheckpoint(const std::string& prefix, const Model& model, const TrainState& s) {
  nlohmann::json j = {{"epoch", s.epoch},         {"batch", s.batch},
                      {"step", s.step},           {"seed", s.seed},
                      {"optimizer", s.optimizer}, {"epoch_loss_sum", s.epoch_loss_sum},
                      {"epoch_correct", s.epoch_correct}, {"epoch_seen", s.epoch_seen}};
  Model state;
  state.opset_imports = {{"", 17}};
  state.graph->name = "greenai_train_state";
  for (const auto& [name, t] : s.optimizer_state) state.graph->AddInitializer(name, t);
  state.metadata.emplace_back(kStateKey, j.dump());
  GREENAI_ASSIGN_OR_RETURN(std::string bytes, SerializeModel(state));
  GREENAI_RETURN_IF_ERROR(WriteFileAtomic(CheckpointStatePath(prefix), bytes));
  auto copy = model.Clone();
  SetMeta(*copy, kStepKey, std::to_string(s.step));
  return SaveModel(*copy, CheckpointModelPath(prefix));
}

Result<LoadedCheckpoint> LoadCheckpoint(const std::string& prefix) {
  const std::string mpath = CheckpointModelPath(prefix), spath = CheckpointStatePath(prefix);
  if (!CheckpointExists(prefix))
    return NotFound("checkpoint '{}': needs both '{}' and '{}'", prefix, mpath, spath);
  LoadedCheckpoint out;
  GREENAI_ASSIGN_OR_RETURN(out.model, LoadModel(mpath));
  GREENAI_ASSIGN_OR_RETURN(auto state, LoadModel(spath));
  const std::string js = FindMeta(*state, kStateKey);
  if (js.empty()) return InvalidArgument("checkpoint state '{}': no '{}' metadata (not a greenai checkpoint)", spath, kStateKey);
  nlohmann::json j = nlohmann::json::parse(js, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgument("checkpoint state '{}': metadata '{}' is not a JSON object", spath, kStateKey);
  TrainState& s = out.state;
  auto get_int = [&](const char* key, int64_t* v) -> Status {
    if (!j.contains(key) || !j[key].is_number_integer())
      return InvalidArgument("checkpoint state '{}': field '{}' missing or not an integer", spath, key);
    *v = j[key].get<int64_t>();
    if (*v < 0) return InvalidArgument("checkpoint state '{}': field '{}' is {} (expects >= 0)", spath, key, *v);
    return Status::Ok();
  };
  int64_t seed = 0;
  GREENAI_RETURN_IF_ERROR(get_int("epoch", &s.epoch));
  GREENAI_RETURN_IF_ERROR(get_int("batch", &s.batch));
  GREENAI_RETURN_IF_ERROR(get_int("step", &s.step));
  GREENAI_RETURN_IF_ERROR(get_int("seed", &seed));
  GREENAI_RETURN_IF_ERROR(get_int("epoch_correct", &s.epoch_correct));
  GREENAI_RETURN_IF_ERROR(get_int("epoch_seen", &s.epoch_seen));
  s.seed = static_cast<uint64_t>(seed);
  if (!j.contains("optimizer") || !j["optimizer"].is_string() || !j.contains("epoch_loss_sum") ||
      !j["epoch_loss_sum"].is_number())
    return InvalidArgument("checkpoint state '{}': fields 'optimizer'/'epoch_loss_sum' missing or mistyped", spath);
  s.optimizer = j["optimizer"].get<std::string>();
  s.epoch_loss_sum = j["epoch_loss_sum"].get<double>();
  const Graph& g = *state->graph;
  std::vector<std::string> names = g.initializer_order;
  for (const auto& [name, t] : g.initializers)
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  for (const auto& name : names) s.optimizer_state.emplace_back(name, *g.FindInitializer(name));
  const std::string mstep = FindMeta(*out.model, kStepKey);
  if (mstep != std::to_string(s.step))
    return FailedPrecondition("checkpoint '{}': model is at step '{}' but the state is at step {} (the run stopped "
                              "between writing the two files; the checkpoint is unusable)",
                              prefix, mstep, s.step);
  return out;
}

}  // namespace greenai::train
