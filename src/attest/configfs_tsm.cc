#include "attest/configfs_tsm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace cmln::attest {

namespace {

constexpr size_t kReportDataSize = 64;
// Upper bound on what we read from one attribute: a TDX quote with its certification data or an SNP
// certificate table is a few KiB; the kernel itself caps outblob at 32 KiB.
constexpr size_t kMaxBlobSize = 1 << 20;

Error IoError(const std::string& what, const std::string& path) {
  return Error(ErrorCode::kIoError, what + " " + path + ": " + std::strerror(errno));
}

Result<Bytes> ReadAttribute(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  Bytes out;
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = IoError("cannot read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxBlobSize) {
      ::close(fd);
      return Error(ErrorCode::kLengthTooLarge, path + " exceeds " + std::to_string(kMaxBlobSize) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Status WriteAttribute(const std::string& path, ByteView data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  // configfs binary attributes take the whole value in one write.
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  Status st = OkStatus();
  if (n < 0) {
    st = IoError("cannot write", path);
  } else if (static_cast<size_t>(n) != data.size()) {
    st = Error(ErrorCode::kIoError, "short write to " + path);
  }
  ::close(fd);
  return st;
}

Result<uint64_t> ReadGeneration(const std::string& dir) {
  CMLN_ASSIGN_OR_RETURN(Bytes text, ReadAttribute(dir + "/generation"));
  uint64_t v = 0;
  size_t digits = 0;
  for (uint8_t c : text) {
    if (c == '\n') break;
    if (c < '0' || c > '9' || digits >= 19) {
      return Error(ErrorCode::kMalformed, dir + "/generation is not a decimal counter");
    }
    v = v * 10 + (c - '0');
    ++digits;
  }
  if (digits == 0) return Error(ErrorCode::kMalformed, dir + "/generation is empty");
  return v;
}

std::string Trimmed(const Bytes& b) {
  std::string s(b.begin(), b.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

Result<TsmReport> CollectTsmReport(ByteView report_data, const TsmOptions& options) {
  if (report_data.size() != kReportDataSize) {
    return Error(ErrorCode::kInvalidArgument,
                 "report data must be 64 bytes, got " + std::to_string(report_data.size()));
  }
  struct stat st {};
  if (::stat(options.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kNotFound, "configfs-tsm not available at " + options.root);
  }
  static std::atomic<uint64_t> counter{0};
  const std::string dir =
      options.root + "/" +
      (options.entry_name.empty()
           ? options.entry_prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)
           : options.entry_name);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("cannot create", dir);

  Result<TsmReport> result = Error(ErrorCode::kReplay, "unset");
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    auto g0 = ReadGeneration(dir);
    if (!g0.ok()) {
      result = g0.error();
      break;
    }
    uint64_t writes = 0;
    if (options.privlevel) {
      const std::string level = std::to_string(*options.privlevel);
      Status w = WriteAttribute(dir + "/privlevel", AsBytes(level));
      if (!w.ok()) {
        result = w.error();
        break;
      }
      ++writes;
    }
    Status w = WriteAttribute(dir + "/inblob", report_data);
    if (!w.ok()) {
      result = w.error();
      break;
    }
    ++writes;
    auto out = ReadAttribute(dir + "/outblob");
    if (!out.ok()) {
      result = out.error();
      break;
    }
    Bytes aux;
    struct stat ast {};
    if (::stat((dir + "/auxblob").c_str(), &ast) == 0) {
      auto a = ReadAttribute(dir + "/auxblob");
      if (a.ok()) aux = std::move(*a);  // absent certificates are normal (the host supplies none)
    }
    auto provider = ReadAttribute(dir + "/provider");
    auto g1 = ReadGeneration(dir);
    if (!g1.ok()) {
      result = g1.error();
      break;
    }
    if (*g1 != *g0 + writes) {
      result = Error(ErrorCode::kReplay, "configfs-tsm generation moved from " + std::to_string(*g0) + " to " +
                                             std::to_string(*g1) + " across " + std::to_string(writes) +
                                             " writes: another writer raced on " + dir);
      continue;
    }
    TsmReport report;
    report.provider = provider.ok() ? Trimmed(*provider) : "";
    report.outblob = std::move(*out);
    report.auxblob = std::move(aux);
    report.generation = *g1;
    result = std::move(report);
    break;
  }
  if (options.remove_entry) ::rmdir(dir.c_str());
  return result;
}

}  // namespace cmln::attest
