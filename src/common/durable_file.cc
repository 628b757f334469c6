#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace cmln {

namespace {

Error IoError(const std::string& what, const std::string& path) {
  return Error(ErrorCode::kIoError, what + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("write", path);
    off += static_cast<size_t>(n);
  }
  return OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

}  // namespace

Status FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("fsync", dir);
  return OkStatus();
}

Status WriteFileDurably(const std::string& path, ByteView data, int mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return IoError("open", tmp);
  Status st = WriteAll(fd, data, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = IoError("fsync", tmp);
  ::close(fd);
  if (!st.ok()) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("rename", tmp);
  return FsyncDirectory(DirectoryOf(path));
}

Status RemoveDurably(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("unlink", path);
  return FsyncDirectory(DirectoryOf(path));
}

Result<AppendFile> AppendFile::Open(const std::string& path, ByteView header) {
  struct stat st {};
  const bool existed = ::stat(path.c_str(), &st) == 0;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("open", path);
  AppendFile file(fd, path);
  if (!existed) {
    if (!header.empty()) CMLN_TRY(file.Append(header));
    if (::fsync(fd) != 0) return IoError("fsync", path);
    CMLN_TRY(FsyncDirectory(DirectoryOf(path)));
  }
  return file;
}

AppendFile::AppendFile(AppendFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status AppendFile::Append(ByteView data) {
  if (fd_ < 0) return Error(ErrorCode::kInvalidArgument, "append to a closed file");
  CMLN_TRY(WriteAll(fd_, data, path_));
  if (::fdatasync(fd_) != 0) return IoError("fdatasync", path_);
  return OkStatus();
}

}  // namespace cmln
