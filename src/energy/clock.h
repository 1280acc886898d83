// Clock seam for the energy layer: sensors and the tracker read time only through
// this interface so tests can drive them with a FakeClock.
//
// Contract:
//  - NowSeconds() is monotonic (never goes back); WallSeconds() is Unix time (UTC).
//  - SystemClock() is thread safe. FakeClock is thread safe (atomic) and only moves
//    when Advance() is called.
#pragma once

#include <atomic>

namespace greenai::energy {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double NowSeconds() const = 0;
  virtual double WallSeconds() const = 0;
};

// The process-wide real clock (steady_clock / system_clock).
const Clock& SystemClock();

class FakeClock : public Clock {
 public:
  explicit FakeClock(double now = 0.0, double wall = 1.7e9) : now_(now), wall_(wall) {}
  double NowSeconds() const override { return now_.load(); }
  double WallSeconds() const override { return wall_.load(); }
  void Advance(double seconds) {
    now_.store(now_.load() + seconds);
    wall_.store(wall_.load() + seconds);
  }

 private:
  std::atomic<double> now_;
  std::atomic<double> wall_;
};

}  // namespace greenai::energy
