#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace greenai {
namespace {

double SteadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string FormatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f} s", s);
  const int64_t t = static_cast<int64_t>(std::llround(s));
  if (t < 3600) return fmt::format("{} min {:02d} s", t / 60, static_cast<int>(t % 60));
  return fmt::format("{} h {:02d} min", t / 3600, static_cast<int>((t % 3600) / 60));
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::FILE* out, Clock clock)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 0)), out_(out), clock_(std::move(clock)) {
  if (!clock_) clock_ = SteadyNow;
  start_ = clock_();
  const char* off = std::getenv("GREENAI_NO_PROGRESS");
  enabled_ = out_ != nullptr && !(off && *off && std::strcmp(off, "0") != 0);
  tty_ = enabled_ && isatty(fileno(out_));
}

ProgressBar::~ProgressBar() {
  // A bar abandoned mid-way (an error return) must not leave the cursor mid-line.
  if (enabled_ && tty_ && !finished_ && last_len_ > 0) std::fputc('\n', out_);
}

double ProgressBar::Elapsed() const { return clock_() - start_; }

std::string ProgressBar::Render(int64_t done, std::string_view suffix) const {
  const double el = Elapsed();
  std::string s = label_;
  if (total_ > 0) {
    const double f = std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0);
    constexpr int kWidth = 24;
    const int full = static_cast<int>(f * kWidth);
    s += fmt::format(" [{}{}] {:3.0f}% {}/{}", std::string(static_cast<size_t>(full), '#'),
                     std::string(static_cast<size_t>(kWidth - full), '.'), f * 100, done, total_);
    s += " · " + FormatDuration(el);
    if (done > 0 && done < total_) s += " · ETA " + FormatDuration(el * static_cast<double>(total_ - done) / done);
  } else {
    s += fmt::format(" {} · {}", done, FormatDuration(el));
  }
  if (!suffix.empty()) {
    s += " · ";
    s += suffix;
  }
  return s;
}

void ProgressBar::Draw(int64_t done, std::string_view suffix, bool final) {
  const std::string line = Render(done, suffix);
  if (tty_) {
    std::string pad = last_len_ > line.size() ? std::string(last_len_ - line.size(), ' ') : "";
    std::fprintf(out_, "\r%s%s%s", line.c_str(), pad.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
  last_len_ = line.size();
}

void ProgressBar::Update(int64_t done, std::string_view suffix) {
  if (!enabled_ || finished_) return;
  const double now = clock_();
  if (now - last_draw_ < (tty_ ? 0.1 : 5.0)) return;
  last_draw_ = now;
  Draw(done, suffix, false);
}

void ProgressBar::Finish(std::string_view suffix) {
  if (!enabled_ || finished_) return;
  finished_ = true;
  Draw(total_ > 0 ? total_ : 0, suffix, true);
}

}  // namespace greenai
