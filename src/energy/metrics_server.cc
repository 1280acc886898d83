#include "energy/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace greenai::energy {

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(int port) {
  if (port < 0 || port > 65535) return InvalidArgument("metrics server: port {} outside 0..65535", port);
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return IoError("metrics server: socket failed: {}", std::strerror(errno));
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    return IoError("metrics server: cannot listen on 127.0.0.1:{}: {}", port, std::strerror(e));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void MetricsServer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {
void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(n);
  }
}
}  // namespace

void MetricsServer::Serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);  // wake regularly to notice Stop()
    if (r <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::string req;
    char buf[2048];
    // Read the request head, with a short timeout so a silent client cannot stall us.
    while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos && req.size() < 8192) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 1000) <= 0) break;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string line = req.substr(0, req.find_first_of("\r\n"));
    std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", body;
    if (line.rfind("GET /metrics ", 0) == 0 || line == "GET /metrics") {
      body = metrics_();
    } else if (line.rfind("GET ", 0) == 0) {
      status = "404 Not Found";
      type = "text/plain";
      body = "greenai monitor: only /metrics is served\n";
    } else {
      status = "405 Method Not Allowed";
      type = "text/plain";
      body = "greenai monitor: only GET is supported\n";
    }
    SendAll(c, fmt::format("HTTP/1.0 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                           status, type, body.size(), body));
    ::close(c);
  }
}

Result<std::string> HttpGetLoopback(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError("http get: socket failed: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return IoError("http get: cannot connect to 127.0.0.1:{}: {}", port, std::strerror(e));
  }
  SendAll(fd, "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  std::string resp;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.0 200", 0) != 0 || body == std::string::npos) {
    return IoError("http get 127.0.0.1:{}{}: {}", port, path, resp.substr(0, resp.find('\r')));
  }
  return resp.substr(body + 4);
}

}  // namespace greenai::energy
