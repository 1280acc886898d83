#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace greenai {

namespace {

Status ErrnoStatus(int err, const std::string& what, const std::string& path) {
  std::string reason = std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ResourceExhausted("{} '{}': {} (no space or file too large; old file left untouched)", what, path,
                               reason);
    case EACCES:
    case EPERM:
    case EROFS:
      return IoError("{} '{}': permission denied ({})", what, path, reason);
    case ENOENT:
      return NotFound("{} '{}': {}", what, path, reason);
    default:
      return IoError("{} '{}': {}", what, path, reason);
  }
}

// Closes and unlinks the temp file unless released; keeps every failure path tidy.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void Release() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  if (path.empty()) return InvalidArgument("WriteFileAtomic: empty path");
  fs::path p(path);
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + p.filename().string() + ".tmp.XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return ErrnoStatus(errno, "cannot create temp file for", path);
  TempFile tmp(fd, tmpl);

  // Keep the permissions of the file being replaced; otherwise 0644 like a normal create
  // (mkstemp's 0600 would surprise users sharing models).
  struct stat st {};
  mode_t mode = 0644;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  (void)::fchmod(fd, mode);

  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", path);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "cannot fsync", path);
  if (tmp.Close() != 0) return ErrnoStatus(errno, "cannot close", path);
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) return ErrnoStatus(errno, "cannot rename temp file onto", path);
  tmp.Release();
  // Persist the directory entry too, so a crash right after we return keeps the new file.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("'{}' is not a regular file", path);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return ResourceExhausted("'{}' is {} bytes, more than the {} byte limit for this read", path, st.st_size,
                             max_bytes);
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "cannot read", path);
    }
    if (n == 0) break;  // file shrank while reading
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

}  // namespace greenai
