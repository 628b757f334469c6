// Test helpers: locating checked-in data, reading vector files (after BoringSSL's file_test), and
// running child processes for interop and end-to-end tests.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/bytes.h"

namespace cmln::testing {

// Absolute path of a file under tests/data/.
std::string DataPath(const std::string& relative);
std::string ReadFileOrDie(const std::string& path);
nlohmann::json ReadJsonOrDie(const std::string& path);
// Hex to bytes; aborts the test binary on bad hex (test data is trusted).
Bytes Hex(std::string_view hex);

// One "key = value" block of a vector file. Values are returned as given; every key must be read
// by the test (AllUsed), so a vector attribute nobody checks fails the run instead of passing silently.
class VectorBlock {
 public:
  void Set(const std::string& key, const std::string& value) { attrs_[key] = value; }
  bool Has(const std::string& key) const { return attrs_.count(key) != 0; }
  const std::string& Get(const std::string& key) const;
  Bytes GetHex(const std::string& key) const { return Hex(Get(key)); }
  uint64_t GetInt(const std::string& key) const;
  // Keys that were never read.
  std::vector<std::string> Unused() const;

 private:
  std::map<std::string, std::string> attrs_;
  mutable std::set<std::string> used_;
};

// A test case: top-level attributes plus named groups introduced by "# name[i]" comment lines
// (the layout of BoringSSL's HPKE vectors).
struct VectorCase {
  VectorBlock attrs;
  std::map<std::string, std::vector<VectorBlock>> groups;
  int line = 0;  // first line, for messages
  std::vector<std::string> Unused() const;
};

// Cases are separated by blank lines. Lines starting with '#' that are not group headers are comments.
std::vector<VectorCase> ReadVectorFile(const std::string& path);

// Runs a command (via /bin/sh -c), feeding `stdin_data`, returning exit code and stdout.
struct ProcessResult {
  int exit_code = -1;
  std::string out;
};
ProcessResult RunProcess(const std::string& command, const std::string& stdin_data = "");

}  // namespace cmln::testing
