#include "cli/train_util.h"

#include <cstdlib>
#include <sstream>

#include "energy/detect.h"
#include "graph/onnx_io.h"
#include "train/archs.h"

namespace greenai::cli {

Result<std::vector<int64_t>> ParseWidths(const std::string& s) {
  std::vector<int64_t> w;
  if (s.empty()) return w;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v <= 0)
      return InvalidArgument("--widths '{}': '{}' is not a positive integer", s, item);
    w.push_back(v);
  }
  return w;
}

Result<std::unique_ptr<Model>> LoadOrBuildModel(const std::string& spec, const train::Dataset& data,
                                                const std::string& widths, uint64_t seed) {
  if (spec.size() > 5 && spec.compare(spec.size() - 5, 5, ".onnx") == 0) return LoadModel(spec);
  GREENAI_ASSIGN_OR_RETURN(auto w, ParseWidths(widths));
  train::ArchOptions ao;
  ao.input_shape = data.sample_shape();
  ao.num_classes = data.num_classes();
  ao.widths = std::move(w);
  ao.seed = static_cast<uint32_t>(seed);
  return train::BuildArch(spec, ao);
}

TrainingMeter::TrainingMeter() {
  energy::DetectedSensors det = energy::DetectSensors(energy::DetectOptions{});
  energy::TrackerOptions topt;
  topt.interval_s = 1.0;
  tracker_ = std::make_unique<energy::Tracker>(std::move(det.sensors), topt);
  metered_ = tracker_->Start().ok();
  if (metered_ && tracker_->LastReport().any_estimated) label_ = "J (estimated)";
}

std::function<double()> TrainingMeter::JoulesSoFar() {
  if (!metered_) return {};
  return [t = tracker_.get()] { return t->LastReport().total_j; };
}

double TrainingMeter::Stop() {
  if (!metered_) return -1;
  metered_ = false;
  auto r = tracker_->Stop();
  return r.ok() ? r->total_j : -1;
}

}  // namespace greenai::cli
