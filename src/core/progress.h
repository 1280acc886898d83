// A progress line for anything that takes more than a few seconds (training epochs,
// benchmark windows, calibration).
//
//   ProgressBar bar("epoch 3/10", num_batches);
//   for (...) bar.Update(i + 1, fmt::format("loss {:.3f} · {:.0f} samples/s", loss, rate));
//   bar.Finish("acc 91.2 %");
//
// Contract:
//  - On a terminal the line is redrawn in place ("\r"), at most 10 times a second; elsewhere
//    (logs, CI) a plain line is printed at most every 5 s, so logs stay short. Finish() always
//    prints the final line and a newline. total 0 means unknown (no percentage or ETA).
//  - The line shows label, bar and percentage, done/total, elapsed and ETA, then the suffix.
//  - GREENAI_NO_PROGRESS=1 silences every bar (tests, --json output).
//  - The clock is injectable for tests; output goes to the FILE* given (stderr by default).
//  - Not thread safe: one thread updates one bar.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace greenai {

class ProgressBar {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic
  ProgressBar(std::string label, int64_t total, std::FILE* out = stderr, Clock clock = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Update(int64_t done, std::string_view suffix = {});
  void Finish(std::string_view suffix = {});
  // The text of the line as it would be drawn now (no control characters); for tests.
  std::string Render(int64_t done, std::string_view suffix) const;
  double Elapsed() const;

 private:
  void Draw(int64_t done, std::string_view suffix, bool final);
  std::string label_;
  int64_t total_;
  std::FILE* out_;
  Clock clock_;
  double start_ = 0, last_draw_ = -1e9;
  bool tty_ = false, enabled_ = true, finished_ = false;
  size_t last_len_ = 0;
};

// "1.2 s", "3 min 05 s", "2 h 03 min".
std::string FormatDuration(double seconds);

}  // namespace greenai
