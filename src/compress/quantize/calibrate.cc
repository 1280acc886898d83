// Calibration: observed activation ranges (see quantize.h).
//
// The model is run through a Session whose graph outputs are extended by the values to
// observe, so calibration uses exactly the runtime's kernels. minmax needs one pass; the
// histogram methods need a second pass, because the histogram's bin width is fixed by the
// absolute maximum over all batches (histograms of different batches must share bins).
#include <algorithm>
#include <cmath>
#include <limits>

#include "compress/quantize/quantize.h"
#include "runtime/session.h"

namespace greenai::compress {

namespace {

constexpr int kBins = 2048;

struct Stats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  std::vector<double> hist;
  bool seen = false;
};

// Expected squared error of quantizing the distribution `hist` (of |x|) with clipping
// threshold t and `levels` steps over [0, t] (half of a symmetric grid).
double MseFor(const std::vector<double>& hist, double width, double t, int levels) {
  const double step = t / levels;
  double err = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    if (hist[i] == 0) continue;
    const double c = (static_cast<double>(i) + 0.5) * width;
    if (c > t) err += hist[i] * (c - t) * (c - t);
    else err += hist[i] * step * step / 12.0;
  }
  return err;
}

// TensorRT's entropy calibration: the threshold (bin count i) minimizing KL(P || Q), where P
// is the histogram clipped at i (outliers added to the last bin) and Q is P quantized into
// `levels` bins and expanded back over the non-empty bins.
int KlThresholdBins(const std::vector<double>& hist, int levels) {
  const int n = static_cast<int>(hist.size());
  if (n <= levels) return n;
  double best = std::numeric_limits<double>::infinity();
  int best_i = n;
  double tail = 0;
  for (int i = levels; i < n; ++i) tail += hist[static_cast<size_t>(i)];
  std::vector<double> p(static_cast<size_t>(n)), q(static_cast<size_t>(n));
  for (int i = levels; i <= n; ++i) {
    // tail = sum of hist[i..n)
    for (int j = 0; j < i; ++j) p[static_cast<size_t>(j)] = hist[static_cast<size_t>(j)];
    p[static_cast<size_t>(i - 1)] += tail;
    const double num_merged = static_cast<double>(i) / levels;
    for (int b = 0; b < levels; ++b) {
      const int start = static_cast<int>(b * num_merged);
      const int stop = b == levels - 1 ? i : static_cast<int>((b + 1) * num_merged);
      double sum = 0;
      int nonzero = 0;
      for (int j = start; j < stop; ++j) {
        sum += hist[static_cast<size_t>(j)];
        if (hist[static_cast<size_t>(j)] != 0) ++nonzero;
      }
      for (int j = start; j < stop; ++j)
        q[static_cast<size_t>(j)] = hist[static_cast<size_t>(j)] != 0 && nonzero ? sum / nonzero : 0;
    }
    double psum = 0, qsum = 0;
    for (int j = 0; j < i; ++j) psum += p[static_cast<size_t>(j)], qsum += q[static_cast<size_t>(j)];
    if (psum > 0 && qsum > 0) {
      double kl = 0;
      for (int j = 0; j < i; ++j) {
        const double pj = p[static_cast<size_t>(j)] / psum;
        if (pj == 0) continue;
        const double qj = q[static_cast<size_t>(j)] / qsum;
        kl += qj == 0 ? pj * 30.0 : pj * std::log(pj / qj);  // empty Q bin: large finite penalty
      }
      if (kl < best) best = kl, best_i = i;
    }
    if (i < n) tail -= hist[static_cast<size_t>(i)];
  }
  return best_i;
}

}  // namespace

Range RangeFromHistogram(const std::vector<double>& abs_hist, float min, float max, CalibMethod method,
                         double percentile, int levels) {
  Range r{std::min(min, 0.f), std::max(max, 0.f)};
  const double absmax = std::max(std::fabs(r.lo), std::fabs(r.hi));
  if (method == CalibMethod::kMinMax || abs_hist.empty() || absmax == 0) return r;
  const double width = absmax / static_cast<double>(abs_hist.size());
  double total = 0;
  for (double h : abs_hist) total += h;
  if (total == 0) return r;
  double t = absmax;
  if (method == CalibMethod::kPercentile) {
    const double target = total * std::clamp(percentile, 0.0, 100.0) / 100.0;
    double acc = 0;
    for (size_t i = 0; i < abs_hist.size(); ++i) {
      acc += abs_hist[i];
      if (acc >= target) {
        t = (static_cast<double>(i) + 1) * width;
        break;
      }
    }
  } else if (method == CalibMethod::kEntropy) {
    t = KlThresholdBins(abs_hist, levels) * width;
  } else {  // kMse: candidate thresholds on a grid of bin edges
    double best = std::numeric_limits<double>::infinity();
    const size_t stride = std::max<size_t>(1, abs_hist.size() / 256);
    for (size_t i = stride; i <= abs_hist.size(); i += stride) {
      const double cand = static_cast<double>(i) * width;
      const double e = MseFor(abs_hist, width, cand, levels);
      if (e < best) best = e, t = cand;
    }
  }
  r.lo = std::max(r.lo, static_cast<float>(-t));
  r.hi = std::min(r.hi, static_cast<float>(t));
  return r;
}

Result<std::map<std::string, Range>> CalibrateRanges(const Model& model, const std::vector<std::string>& values,
                                                     const std::vector<Feeds>& batches, CalibMethod method,
                                                     double percentile) {
  if (batches.empty()) return InvalidArgument("calibration: no calibration batches (static mode needs --calib)");
  auto probe = model.Clone();
  Graph& g = *probe->graph;
  std::vector<std::string> observed;
  for (const auto& v : values) {
    if (g.IsInitializer(v)) continue;
    observed.push_back(v);
    if (!g.IsGraphOutput(v)) g.outputs.push_back(ValueInfo{v, TensorType{DType::kF32, false, {}, {}}, ""});
  }
  SessionOptions so;
  so.optimize = false;  // the values to observe must survive as named
  GREENAI_ASSIGN_OR_RETURN(auto session, Session::Create(*probe, so));
  std::vector<size_t> slot(observed.size());
  for (size_t i = 0; i < observed.size(); ++i)
    for (size_t j = 0; j < g.outputs.size(); ++j)
      if (g.outputs[j].name == observed[i]) slot[i] = j;
  std::vector<Stats> stats(observed.size());
  const bool histogram = method != CalibMethod::kMinMax;
  for (int pass = 0; pass < (histogram ? 2 : 1); ++pass) {
    for (size_t b = 0; b < batches.size(); ++b) {
      auto outs = session->Run(batches[b]);
      if (!outs.ok()) return outs.status().WithContext(fmt::format("calibration batch {}", b));
      for (size_t i = 0; i < observed.size(); ++i) {
        const Tensor& t = (*outs)[slot[i]];
        if (t.dtype() != DType::kF32) continue;
        Stats& s = stats[i];
        const float* d = t.data<float>();
        if (pass == 0) {
          for (int64_t k = 0; k < t.numel(); ++k) {
            if (!std::isfinite(d[k])) continue;
            s.min = std::min(s.min, d[k]);
            s.max = std::max(s.max, d[k]);
          }
          s.seen = true;
        } else {
          const double absmax = std::max(std::fabs(std::min(s.min, 0.f)), std::fabs(std::max(s.max, 0.f)));
          if (absmax == 0) continue;
          if (s.hist.empty()) s.hist.assign(kBins, 0.0);
          const double inv = kBins / absmax;
          for (int64_t k = 0; k < t.numel(); ++k) {
            if (!std::isfinite(d[k])) continue;
            const int bin = std::min(kBins - 1, static_cast<int>(std::fabs(d[k]) * inv));
            s.hist[static_cast<size_t>(bin)] += 1;
          }
        }
      }
    }
  }
  std::map<std::string, Range> ranges;
  for (size_t i = 0; i < observed.size(); ++i) {
    const Stats& s = stats[i];
    if (!s.seen || s.min > s.max) continue;
    // A non-negative tensor (post-Relu) uses all 255 steps on [0, t]; a signed one ~127 per side.
    const int levels = s.min >= 0 ? 255 : 127;
    ranges[observed[i]] = RangeFromHistogram(s.hist, s.min, s.max, method, percentile, levels);
  }
  return ranges;
}

}  // namespace greenai::compress
