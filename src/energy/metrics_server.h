// A tiny loopback-only HTTP/1.0 responder for Prometheus scraping: GET /metrics
// returns the text the callback produces; anything else is 404. It binds to
// 127.0.0.1 only, so the metrics are never exposed beyond the machine.
//
// Contract:
//  - Start(port) binds (port 0 = any free port; port() tells which) and serves on
//    one background thread, one connection at a time (scrapes are rare and small).
//  - Stop() (or the destructor) closes the socket and joins the thread.
//  - The callback is called on the server thread; it must be thread safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/status.h"

namespace greenai::energy {

class MetricsServer {
 public:
  explicit MetricsServer(std::function<std::string()> metrics) : metrics_(std::move(metrics)) {}
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  [[nodiscard]] Status Start(int port);
  void Stop();
  int port() const { return port_; }

 private:
  void Serve();
  std::function<std::string()> metrics_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Fetches http://127.0.0.1:port/path (for tests and `monitor --once`); returns the body.
[[nodiscard]] Result<std::string> HttpGetLoopback(int port, const std::string& path);

}  // namespace greenai::energy
