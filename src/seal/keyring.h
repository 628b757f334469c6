// The local account keyring: named secp256k1 account keys in one JSON file.
//
// PLAINTEXT AT REST. Private keys are stored unencrypted; the only protection is file-system
// permissions (file 0600, directory 0700, both owned by the user). That is meant for development,
// tests and devnets. Production hosts should keep account keys in an HSM or the OS keychain, which
// this keyring does not do. See docs/keys.md.
//
// File: <home>/keyring.json, where home is --home, else $CMLN_HOME, else $HOME/.cmln.
//   {
//     "version": 1,
//     "keys": [
//       {"name": "alice",                    ; [a-z0-9._-]{1,64}, unique
//        "address": "gonka1…",               ; bech32 of RIPEMD-160(SHA-256(pubkey))
//        "pubkey": "02…",                    ; 33-byte compressed public key, hex
//        "private_key": "…",                 ; 32-byte scalar, hex
//        "created": "2025-01-02T03:04:05Z"}  ; RFC 3339, UTC
//     ]
//   }
// Loading checks everything it can: the file is a regular file owned by the user with no group or
// other permission bits (else kPermissionDenied, with the chmod that fixes it), at most
// kMaxKeyringFileSize bytes (kLengthTooLarge), valid JSON of this shape (kBadEncoding / kMalformed),
// version 1 (kUnsupported), and each entry's pubkey and address agree with its private key (kMalformed).
//
// Writes are atomic: a new file is created next to the old one with O_CREAT|O_EXCL and mode 0600,
// written, fsync'ed and renamed over keyring.json, then the directory is fsync'ed. Each change runs
// under an exclusive flock on <home>/keyring.lock and re-reads the file first, so concurrent `cmln`
// processes do not lose each other's keys.
//
// Thread safety: a Keyring object is not thread-safe; use one per thread. Different processes are
// serialized by the lock as above.
// Secrets: private keys are held in SecretBytes; temporary text holding them (file contents, hex)
// is wiped after use where the code controls it (the JSON library's internal copies are not).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/account_key.h"

namespace cmln::seal {

constexpr size_t kMaxKeyringFileSize = 4 * 1024 * 1024;
constexpr size_t kMaxKeyNameLength = 64;
constexpr int kKeyringFormatVersion = 1;
constexpr std::string_view kKeyringFileName = "keyring.json";
constexpr std::string_view kKeyringLockFileName = "keyring.lock";

// The public part of a keyring entry.
struct KeyInfo {
  std::string name;
  std::string address;  // "gonka1…"
  AccountPublicKey public_key{};
  std::string created;  // RFC 3339 UTC
};

struct KeyringOptions {
  // Seconds since the Unix epoch for `created`; empty means the system clock. Tests pin it.
  std::function<int64_t()> now_unix_seconds;
};

// kInvalidArgument unless `name` matches [a-z0-9._-]{1,64}.
Status ValidateKeyName(std::string_view name);

class Keyring {
 public:
  // $CMLN_HOME if set and non-empty, else $HOME/.cmln; kInvalidArgument if neither is set.
  static Result<std::string> DefaultHome();

  // Opens the keyring under `home` and loads it if the file exists (a missing file or directory is
  // an empty keyring; nothing is created until the first Add/Import). Errors as in the file comment.
  static Result<Keyring> Open(std::string home, KeyringOptions options = {});

  // Generates a key and stores it. kInvalidArgument for a bad name, kAlreadyExists if the name is
  // taken, kPermissionDenied/kIoError if the file cannot be written safely. On failure nothing changed.
  Result<KeyInfo> Add(std::string_view name);
  // Stores a given 32-byte private key (hex). As Add, plus kBadEncoding for bad hex, kInvalidKey for a
  // scalar that is not a valid key, and kAlreadyExists if the same key is already stored (any name).
  Result<KeyInfo> Import(std::string_view name, std::string_view private_key_hex);

  // kNotFound if there is no key with that name.
  Result<KeyInfo> Get(std::string_view name) const;
  Result<AccountPrivateKey> GetPrivateKey(std::string_view name) const;
  // All keys, ordered by name.
  std::vector<KeyInfo> List() const;

  const std::string& home() const { return home_; }
  std::string file_path() const;

 private:
  struct Entry {
    KeyInfo info;
    SecretBytes private_key;
  };

  Keyring(std::string home, KeyringOptions options) : home_(std::move(home)), options_(std::move(options)) {}
  Result<KeyInfo> Store(std::string_view name, AccountPrivateKey key);
  Status Reload();
  Status Save() const;
  std::string NowRfc3339() const;

  std::string home_;
  KeyringOptions options_;
  std::vector<Entry> entries_;  // sorted by name
};

}  // namespace cmln::seal
