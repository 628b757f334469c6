// The local account keyring. File format and guarantees are in keyring.h.
#include "seal/keyring.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "seal/crypto.h"

namespace cmln::seal {

namespace {

using nlohmann::json;

constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Error Errno(ErrorCode code, std::string_view what, const std::string& path) {
  const int e = errno;
  std::string m(what);
  m += " ";
  m += path;
  m += ": ";
  m += std::strerror(e);
  return Error(e == EACCES || e == EPERM ? ErrorCode::kPermissionDenied : code, std::move(m));
}

// Closes a file descriptor on scope exit.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

// The directory holding the keyring must belong to the user and not be writable by anybody else
// (someone who can write it can swap the file for one holding their keys).
Status CheckDirectory(const std::string& dir, const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) return Error(ErrorCode::kIoError, "keyring home " + dir + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return Error(ErrorCode::kPermissionDenied, "keyring home " + dir + " is owned by uid " + std::to_string(st.st_uid) +
                                                   ", not by the current user");
  }
  if ((st.st_mode & 022) != 0) {
    return Error(ErrorCode::kPermissionDenied, "keyring home " + dir + " has mode " + ModeString(st.st_mode) +
                                                   " (writable by group or others); fix with: chmod 700 " + dir);
  }
  return OkStatus();
}

// Creates `dir` (and missing parents) with mode 0700, or checks an existing one.
Status EnsureDirectory(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return CheckDirectory(dir, st);
  if (errno != ENOENT) return Errno(ErrorCode::kIoError, "cannot stat keyring home", dir);
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string parent = dir.substr(0, slash);
    struct stat pst;
    if (::stat(parent.c_str(), &pst) != 0) {
      CMLN_TRY(EnsureDirectory(parent));
    }
  }
  if (::mkdir(dir.c_str(), kDirMode) != 0 && errno != EEXIST) {
    return Errno(ErrorCode::kIoError, "cannot create keyring home", dir);
  }
  if (::stat(dir.c_str(), &st) != 0) return Errno(ErrorCode::kIoError, "cannot stat keyring home", dir);
  return CheckDirectory(dir, st);
}

// Holds an exclusive flock on <home>/keyring.lock for its lifetime.
class LockFile {
 public:
  Status Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode);
    if (fd < 0) return Errno(ErrorCode::kIoError, "cannot open keyring lock", path);
    UniqueFd owned(fd);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return Errno(ErrorCode::kIoError, "cannot lock", path);
    }
    held_ = owned.release();
    return OkStatus();
  }
  ~LockFile() {
    if (held_ >= 0) {
      ::flock(held_, LOCK_UN);
      ::close(held_);
    }
  }

 private:
  int held_ = -1;
};

// Overwrites every string in a JSON value (private keys pass through it as hex).
void WipeJsonStrings(json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    if (!s.empty()) SecureZero(s.data(), s.size());
  } else if (j.is_structured()) {
    for (auto& child : j) WipeJsonStrings(child);
  }
}

void WipeString(std::string& s) {
  if (!s.empty()) SecureZero(s.data(), s.size());
  s.clear();
}

Result<const std::string*> StringField(const json& entry, const char* field, const std::string& where) {
  auto it = entry.find(field);
  if (it == entry.end() || !it->is_string()) {
    return Error(ErrorCode::kMalformed, where + ": field '" + field + "' missing or not a string");
  }
  return &it->get_ref<const std::string&>();
}

// Reads the whole file at `path` into `out` after the permission checks. Returns false (and leaves
// `out` empty) when there is no file.
Result<bool> ReadKeyringFile(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    if (errno == ELOOP) return Error(ErrorCode::kPermissionDenied, "keyring " + path + " is a symbolic link; refusing it");
    return Errno(ErrorCode::kIoError, "cannot open keyring", path);
  }
  UniqueFd file(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return Errno(ErrorCode::kIoError, "cannot stat keyring", path);
  if (!S_ISREG(st.st_mode)) return Error(ErrorCode::kIoError, "keyring " + path + " is not a regular file");
  if (st.st_uid != ::geteuid()) {
    return Error(ErrorCode::kPermissionDenied,
                 "keyring " + path + " is owned by uid " + std::to_string(st.st_uid) + ", not by the current user");
  }
  if ((st.st_mode & 077) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "keyring " + path + " has mode " + ModeString(st.st_mode) +
                     "; it holds plaintext private keys and must not be accessible to group or others; fix with: "
                     "chmod 600 " + path);
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyringFileSize) {
    return Error(ErrorCode::kLengthTooLarge, "keyring " + path + " is " + std::to_string(st.st_size) +
                                                 " bytes (max " + std::to_string(kMaxKeyringFileSize) + ")");
  }
  // Reserve once so the buffer holding private keys never reallocates (a reallocation would leave an
  // unwiped copy behind). Writers replace the file by rename, so it never grows under us; if it does,
  // refuse rather than reallocate.
  const size_t expected = static_cast<size_t>(st.st_size);
  out.clear();
  out.reserve(expected);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      SecureZero(buf, sizeof(buf));
      return Errno(ErrorCode::kIoError, "cannot read keyring", path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > expected) {
      SecureZero(buf, sizeof(buf));
      return Error(ErrorCode::kIoError, "keyring " + path + " grew while being read");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  SecureZero(buf, sizeof(buf));
  return true;
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

Status ValidateKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameLength) {
    return Error(ErrorCode::kInvalidArgument,
                 "key name: length " + std::to_string(name.size()) + " outside 1..64");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i])) {
      return Error(ErrorCode::kInvalidArgument,
                   "key name: character at offset " + std::to_string(i) + " not in [a-z0-9._-]");
    }
  }
  return OkStatus();
}

Result<std::string> Keyring::DefaultHome() {
  const char* home = std::getenv("CMLN_HOME");
  if (home != nullptr && *home != '\0') return std::string(home);
  const char* user_home = std::getenv("HOME");
  if (user_home != nullptr && *user_home != '\0') return std::string(user_home) + "/.cmln";
  return Error(ErrorCode::kInvalidArgument, "neither CMLN_HOME nor HOME is set; pass --home");
}

Result<Keyring> Keyring::Open(std::string home, KeyringOptions options) {
  if (home.empty()) return Error(ErrorCode::kInvalidArgument, "keyring home: empty path");
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  Keyring keyring(std::move(home), std::move(options));
  CMLN_TRY(keyring.Reload());
  return keyring;
}

std::string Keyring::file_path() const { return home_ + "/" + std::string(kKeyringFileName); }

Status Keyring::Reload() {
  const std::string path = file_path();
  std::string text;
  auto exists = ReadKeyringFile(path, text);
  if (!exists.ok()) {
    WipeString(text);
    return exists.error();
  }
  if (!*exists) {
    entries_.clear();
    return OkStatus();
  }
  struct stat dst;
  if (::stat(home_.c_str(), &dst) != 0) return Errno(ErrorCode::kIoError, "cannot stat keyring home", home_);
  CMLN_TRY(CheckDirectory(home_, dst));

  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  WipeString(text);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "keyring " + path + ": not valid JSON");

  // Everything below may return early; the guard wipes the parsed private keys on every path.
  struct Wiper {
    json& j;
    ~Wiper() { WipeJsonStrings(j); }
  } wiper{doc};

  if (!doc.is_object()) return Error(ErrorCode::kMalformed, "keyring " + path + ": top level is not an object");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) {
    return Error(ErrorCode::kMalformed, "keyring " + path + ": field 'version' missing or not an integer");
  }
  if (version->get<int64_t>() != kKeyringFormatVersion) {
    return Error(ErrorCode::kUnsupported,
                 "keyring " + path + ": version " + std::to_string(version->get<int64_t>()) + " (this cmln reads 1)");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return Error(ErrorCode::kMalformed, "keyring " + path + ": field 'keys' missing or not an array");
  }

  std::vector<Entry> loaded;
  loaded.reserve(keys->size());
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& e = (*keys)[i];
    const std::string where = "keyring " + path + ": keys[" + std::to_string(i) + "]";
    if (!e.is_object()) return Error(ErrorCode::kMalformed, where + " is not an object");
    CMLN_ASSIGN_OR_RETURN(const std::string* name, StringField(e, "name", where));
    CMLN_ASSIGN_OR_RETURN(const std::string* address, StringField(e, "address", where));
    CMLN_ASSIGN_OR_RETURN(const std::string* pubkey, StringField(e, "pubkey", where));
    CMLN_ASSIGN_OR_RETURN(const std::string* private_hex, StringField(e, "private_key", where));
    CMLN_ASSIGN_OR_RETURN(const std::string* created, StringField(e, "created", where));
    auto name_ok = ValidateKeyName(*name);
    if (!name_ok.ok()) return Error(ErrorCode::kMalformed, where + ": " + name_ok.error().message());

    auto raw = HexDecode(*private_hex);
    if (!raw.ok()) return raw.error().WithContext(where + ".private_key");
    SecretBytes scalar(*raw);
    SecureZero(raw->data(), raw->size());
    auto key = AccountPrivateKey::FromBytes(scalar.view());
    if (!key.ok()) return key.error().WithContext(where + ".private_key");

    if (*pubkey != HexEncode(key->public_key())) {
      return Error(ErrorCode::kMalformed, where + ": pubkey does not match private_key");
    }
    if (*address != AccountAddressToString(AccountAddressFromPublicKey(key->public_key()))) {
      return Error(ErrorCode::kMalformed, where + ": address does not match private_key");
    }
    Entry entry;
    entry.info.name = *name;
    entry.info.address = *address;
    entry.info.public_key = key->public_key();
    entry.info.created = *created;
    entry.private_key = std::move(scalar);
    loaded.push_back(std::move(entry));
  }
  std::sort(loaded.begin(), loaded.end(), [](const Entry& a, const Entry& b) { return a.info.name < b.info.name; });
  for (size_t i = 1; i < loaded.size(); ++i) {
    if (loaded[i].info.name == loaded[i - 1].info.name) {
      return Error(ErrorCode::kMalformed, "keyring " + path + ": duplicate name '" + loaded[i].info.name + "'");
    }
  }
  entries_ = std::move(loaded);
  return OkStatus();
}

Status Keyring::Save() const {
  CMLN_TRY(EnsureDirectory(home_));
  json doc = {{"version", kKeyringFormatVersion}, {"keys", json::array()}};
  for (const auto& e : entries_) {
    std::string private_hex = HexEncode(e.private_key.view());
    doc["keys"].push_back({{"name", e.info.name},
                           {"address", e.info.address},
                           {"pubkey", HexEncode(e.info.public_key)},
                           {"private_key", private_hex},
                           {"created", e.info.created}});
    WipeString(private_hex);
  }
  std::string text = doc.dump(2);
  text.push_back('\n');
  WipeJsonStrings(doc);
  struct TextWiper {
    std::string& s;
    ~TextWiper() { WipeString(s); }
  } text_wiper{text};

  // A fresh, unpredictable temporary name in the same directory, so rename() is atomic.
  std::array<uint8_t, 8> rnd{};
  RandomBytes(rnd);
  const std::string tmp = home_ + "/." + std::string(kKeyringFileName) + ".tmp-" + std::to_string(::getpid()) + "-" +
                          HexEncode(rnd);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, kFileMode);
  if (fd < 0) return Errno(ErrorCode::kIoError, "cannot create", tmp);
  bool renamed = false;
  struct TmpCleanup {
    const std::string& path;
    bool& done;
    ~TmpCleanup() {
      if (!done) ::unlink(path.c_str());
    }
  } cleanup{tmp, renamed};
  {
    UniqueFd file(fd);
    // The umask can only clear bits, but set the mode explicitly so it is exactly 0600.
    if (::fchmod(fd, kFileMode) != 0) return Errno(ErrorCode::kIoError, "cannot chmod", tmp);
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(fd, text.data() + off, text.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno(ErrorCode::kIoError, "cannot write", tmp);
      }
      off += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) return Errno(ErrorCode::kIoError, "cannot fsync", tmp);
    if (::close(file.release()) != 0) return Errno(ErrorCode::kIoError, "cannot close", tmp);
  }
  const std::string path = file_path();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno(ErrorCode::kIoError, "cannot rename over", path);
  renamed = true;
  // Make the rename itself durable.
  UniqueFd dir(::open(home_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.ok() || ::fsync(dir.get()) != 0) return Errno(ErrorCode::kIoError, "cannot fsync directory", home_);
  return OkStatus();
}

std::string Keyring::NowRfc3339() const {
  const int64_t now = options_.now_unix_seconds ? options_.now_unix_seconds() : static_cast<int64_t>(std::time(nullptr));
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<KeyInfo> Keyring::Store(std::string_view name, AccountPrivateKey key) {
  CMLN_TRY(EnsureDirectory(home_));
  LockFile lock;
  CMLN_TRY(lock.Acquire(home_ + "/" + std::string(kKeyringLockFileName)));
  // Another process may have changed the file since Open; decide on the current contents.
  CMLN_TRY(Reload());
  for (const auto& e : entries_) {
    if (e.info.name == name) {
      return Error(ErrorCode::kAlreadyExists, "key '" + std::string(name) + "' already exists in " + file_path());
    }
    if (e.info.public_key == key.public_key()) {
      return Error(ErrorCode::kAlreadyExists, "this private key is already stored as '" + e.info.name + "'");
    }
  }
  Entry entry;
  entry.info.name = std::string(name);
  entry.info.public_key = key.public_key();
  entry.info.address = AccountAddressToString(AccountAddressFromPublicKey(key.public_key()));
  entry.info.created = NowRfc3339();
  entry.private_key = SecretBytes(key.scalar());
  KeyInfo info = entry.info;

  auto pos = std::lower_bound(entries_.begin(), entries_.end(), info.name,
                              [](const Entry& e, const std::string& n) { return e.info.name < n; });
  pos = entries_.insert(pos, std::move(entry));
  auto saved = Save();
  if (!saved.ok()) {
    entries_.erase(pos);
    return saved.error();
  }
  return info;
}

Result<KeyInfo> Keyring::Add(std::string_view name) {
  CMLN_TRY(ValidateKeyName(name));
  return Store(name, AccountPrivateKey::Generate());
}

Result<KeyInfo> Keyring::Import(std::string_view name, std::string_view private_key_hex) {
  CMLN_TRY(ValidateKeyName(name));
  CMLN_ASSIGN_OR_RETURN(Bytes raw, HexDecode(private_key_hex));
  SecretBytes scalar(raw);
  SecureZero(raw.data(), raw.size());
  CMLN_ASSIGN_OR_RETURN(AccountPrivateKey key, AccountPrivateKey::FromBytes(scalar.view()));
  return Store(name, std::move(key));
}

Result<KeyInfo> Keyring::Get(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.info.name == name) return e.info;
  }
  return Error(ErrorCode::kNotFound, "no key named '" + std::string(name) + "' in " + file_path());
}

Result<AccountPrivateKey> Keyring::GetPrivateKey(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.info.name == name) return AccountPrivateKey::FromBytes(e.private_key.view());
  }
  return Error(ErrorCode::kNotFound, "no key named '" + std::string(name) + "' in " + file_path());
}

std::vector<KeyInfo> Keyring::List() const {
  std::vector<KeyInfo> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.info);
  return out;
}

}  // namespace cmln::seal
