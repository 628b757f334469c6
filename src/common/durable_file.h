// Files that survive a crash: what the node's batch journal and usage log are written with.
//
//   WriteFileDurably   temp file, fsync, rename over the path, fsync of the directory: after OK the file
//                      holds exactly `data` across a crash; before, the previous state (no file or the old
//                      one) does.
//   AppendFile         an O_APPEND file whose Append returns only after fdatasync: a record it accepted
//                      survives a crash; a crash during Append leaves at most a torn last record, which
//                      readers must detect (checksums).
//   RemoveDurably      unlink, then fsync of the directory.
// Errors are kIoError with the path and errno text. Not thread-safe: one owner per AppendFile.
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln {

Status WriteFileDurably(const std::string& path, ByteView data, int mode = 0600);
Status FsyncDirectory(const std::string& dir);
Status RemoveDurably(const std::string& path);

class AppendFile {
 public:
  // Opens (creating if absent, mode 0600) for appending. A newly created file and its directory entry
  // are made durable before this returns; `header` is written (durably) into a newly created file.
  static Result<AppendFile> Open(const std::string& path, ByteView header = {});
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  Status Append(ByteView data);
  const std::string& path() const { return path_; }

 private:
  AppendFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace cmln
