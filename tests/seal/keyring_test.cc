// The local keyring: file and directory modes, refusal of loose permissions, atomic updates without
// leftovers, validation of every loaded field with exact codes, and concurrent writers.
#include "seal/keyring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_util.h"

namespace cmln::seal {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kTrustWalletKey[] = "80e81ea269e66a0a05b11236df7919fb7fbeedba87452d667489d7403a02f005";
constexpr char kTrustWalletGonka[] = "gonka1hsk6jryyqjfhp5dhc55tc9jtckygx0ep802ngg";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cmln-keyring-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

KeyringOptions PinnedClock() {
  KeyringOptions o;
  o.now_unix_seconds = [] { return int64_t{1700000000}; };
  return o;
}

ErrorCode OpenCode(const std::string& home) {
  auto k = Keyring::Open(home);
  return k.ok() ? ErrorCode::kOk : k.error().code();
}

json ReadJson(const std::string& path) { return json::parse(testing::ReadFileOrDie(path)); }

void WriteJson(const std::string& path, const json& j) {
  std::ofstream(path, std::ios::trunc) << j.dump();
  ::chmod(path.c_str(), 0600);
}

TEST(Keyring, MissingHomeIsAnEmptyKeyringAndNothingIsCreated) {
  TempDir tmp;
  const std::string home = tmp.path() + "/not/yet";
  auto k = Keyring::Open(home);
  ASSERT_TRUE(k.ok()) << k.error().ToString();
  EXPECT_TRUE(k->List().empty());
  EXPECT_FALSE(fs::exists(home));
  EXPECT_EQ(k->Get("alice").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(k->GetPrivateKey("alice").error().code(), ErrorCode::kNotFound);
}

TEST(Keyring, AddCreatesPrivateDirectoryAndFile) {
  TempDir tmp;
  const std::string home = tmp.path() + "/nested/home";
  auto k = Keyring::Open(home, PinnedClock());
  ASSERT_TRUE(k.ok());
  auto info = k->Add("alice");
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->name, "alice");
  EXPECT_EQ(info->created, "2023-11-14T22:13:20Z");
  EXPECT_EQ(info->address, AccountAddressToString(AccountAddressFromPublicKey(info->public_key)));
  EXPECT_EQ(ModeOf(home), 0700u);
  EXPECT_EQ(ModeOf(k->file_path()), 0600u);

  // The file holds exactly the documented fields, and the private key matches the public one.
  const json j = ReadJson(k->file_path());
  EXPECT_EQ(j.at("version"), 1);
  ASSERT_EQ(j.at("keys").size(), 1u);
  const json& e = j.at("keys")[0];
  EXPECT_EQ(e.size(), 5u);
  EXPECT_EQ(e.at("name"), "alice");
  EXPECT_EQ(e.at("address"), info->address);
  EXPECT_EQ(e.at("pubkey"), HexEncode(info->public_key));
  EXPECT_EQ(e.at("created"), "2023-11-14T22:13:20Z");
  auto from_file = AccountPrivateKey::FromBytes(testing::Hex(e.at("private_key").get<std::string>()));
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->public_key(), info->public_key);

  // Only the keyring and its lock remain: no temporary files.
  std::set<std::string> names;
  for (const auto& d : fs::directory_iterator(home)) names.insert(d.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"keyring.json", "keyring.lock"}));
}

TEST(Keyring, ReopenGetsTheSameKeysAndTheySign) {
  TempDir tmp;
  KeyInfo alice;
  {
    auto k = Keyring::Open(tmp.path());
    ASSERT_TRUE(k.ok());
    auto a = k->Add("alice");
    ASSERT_TRUE(a.ok());
    alice = *a;
    ASSERT_TRUE(k->Add("bob").ok());
    ASSERT_TRUE(k->Add("0-first").ok());
  }
  auto k = Keyring::Open(tmp.path());
  ASSERT_TRUE(k.ok()) << k.error().ToString();
  auto list = k->List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "0-first");
  EXPECT_EQ(list[1].name, "alice");
  EXPECT_EQ(list[2].name, "bob");
  auto got = k->Get("alice");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->address, alice.address);
  EXPECT_EQ(got->public_key, alice.public_key);
  EXPECT_EQ(got->created, alice.created);
  auto priv = k->GetPrivateKey("alice");
  ASSERT_TRUE(priv.ok());
  EXPECT_EQ(priv->public_key(), alice.public_key);
  auto sig = priv->SignMessage(AsBytes("transfer 5 ngonka"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Secp256k1VerifyMessage(alice.public_key, AsBytes("transfer 5 ngonka"), *sig).ok());
}

TEST(Keyring, DuplicateNameIsAlreadyExistsAndChangesNothing) {
  TempDir tmp;
  auto k = Keyring::Open(tmp.path());
  ASSERT_TRUE(k.ok());
  ASSERT_TRUE(k->Add("alice").ok());
  const std::string before = testing::ReadFileOrDie(k->file_path());
  auto again = k->Add("alice");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(testing::ReadFileOrDie(k->file_path()), before);
  EXPECT_EQ(k->List().size(), 1u);
}

TEST(Keyring, KeyNamesAreRestricted) {
  TempDir tmp;
  auto k = Keyring::Open(tmp.path());
  ASSERT_TRUE(k.ok());
  for (const std::string& bad : {std::string(), std::string("Alice"), std::string("a b"), std::string("a/b"),
                                 std::string("../x"), std::string(65, 'a'), std::string("é")}) {
    auto r = k->Add(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  for (const std::string& good : {std::string("a"), std::string("my-key_1.2"), std::string(64, 'z')}) {
    EXPECT_TRUE(k->Add(good).ok()) << good;
  }
}

TEST(Keyring, ImportKnownKeyAndRejectBadOnes) {
  TempDir tmp;
  auto k = Keyring::Open(tmp.path());
  ASSERT_TRUE(k.ok());
  auto info = k->Import("tw", kTrustWalletKey);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->address, kTrustWalletGonka);
  EXPECT_EQ(HexEncode(info->public_key), "0257286ec3f37d33557bbbaa000b27744ac9023aa9967cae75a181d1ff91fa9dc5");

  auto code = [&](std::string_view name, std::string_view hex) {
    auto r = k->Import(name, hex);
    return r.ok() ? ErrorCode::kOk : r.error().code();
  };
  EXPECT_EQ(code("tw2", kTrustWalletKey), ErrorCode::kAlreadyExists);  // same key, other name
  EXPECT_EQ(code("tw", std::string(64, '1')), ErrorCode::kAlreadyExists);
  EXPECT_EQ(code("x", "zz"), ErrorCode::kBadEncoding);
  EXPECT_EQ(code("x", std::string(62, '1')), ErrorCode::kInvalidKey);
  EXPECT_EQ(code("x", std::string(64, '0')), ErrorCode::kInvalidKey);
  EXPECT_EQ(code("x", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"), ErrorCode::kInvalidKey);
  EXPECT_EQ(code("Bad", kTrustWalletKey), ErrorCode::kInvalidArgument);
  EXPECT_EQ(k->List().size(), 1u);
}

TEST(Keyring, LoosePermissionsAreRefusedWithTheFix) {
  TempDir tmp;
  {
    auto k = Keyring::Open(tmp.path());
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE(k->Add("alice").ok());
  }
  const std::string file = tmp.path() + "/keyring.json";
  for (mode_t mode : {0644, 0640, 0604, 0660, 0606, 0610}) {
    SCOPED_TRACE(mode);
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    auto k = Keyring::Open(tmp.path());
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(k.error().message().find("chmod 600 " + file), std::string::npos) << k.error().message();
  }
  // 0400 (read-only for the owner) is fine.
  ASSERT_EQ(::chmod(file.c_str(), 0400), 0);
  EXPECT_EQ(OpenCode(tmp.path()), ErrorCode::kOk);
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_EQ(OpenCode(tmp.path()), ErrorCode::kOk);

  // A writer opened before the chmod must not write into a loosened keyring either.
  auto k = Keyring::Open(tmp.path());
  ASSERT_TRUE(k.ok());
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  auto add = k->Add("bob");
  ASSERT_FALSE(add.ok());
  EXPECT_EQ(add.error().code(), ErrorCode::kPermissionDenied);
}

TEST(Keyring, GroupWritableHomeIsRefused) {
  TempDir tmp;
  {
    auto k = Keyring::Open(tmp.path());
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE(k->Add("alice").ok());
  }
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0770), 0);
  EXPECT_EQ(OpenCode(tmp.path()), ErrorCode::kPermissionDenied);
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0700), 0);
  EXPECT_EQ(OpenCode(tmp.path()), ErrorCode::kOk);
  // Nor will Add create a keyring in such a directory.
  TempDir other;
  ASSERT_EQ(::chmod(other.path().c_str(), 0777), 0);
  auto k = Keyring::Open(other.path());
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->Add("alice").error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(fs::exists(other.path() + "/keyring.json"));
}

TEST(Keyring, SymlinkedKeyringIsRefused) {
  TempDir tmp;
  TempDir elsewhere;
  {
    auto k = Keyring::Open(elsewhere.path());
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE(k->Add("alice").ok());
  }
  ASSERT_EQ(::symlink((elsewhere.path() + "/keyring.json").c_str(), (tmp.path() + "/keyring.json").c_str()), 0);
  EXPECT_EQ(OpenCode(tmp.path()), ErrorCode::kPermissionDenied);
}

class KeyringFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = Keyring::Open(tmp_.path(), PinnedClock());
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE(k->Import("tw", kTrustWalletKey).ok());
    ASSERT_TRUE(k->Add("other").ok());
    file_ = k->file_path();
    doc_ = ReadJson(file_);
  }
  ErrorCode OpenWith(const json& j) {
    WriteJson(file_, j);
    return OpenCode(tmp_.path());
  }

  TempDir tmp_;
  std::string file_;
  json doc_;
};

TEST_F(KeyringFileTest, UntouchedFileLoads) { EXPECT_EQ(OpenWith(doc_), ErrorCode::kOk); }

TEST_F(KeyringFileTest, TamperedFieldsAreRejected) {
  json j = doc_;
  // The other parity of the same x coordinate: a valid point, but not this key's.
  const std::string pub = j["keys"][0]["pubkey"];
  j["keys"][0]["pubkey"] = (pub.substr(0, 2) == "02" ? "03" : "02") + pub.substr(2);
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);

  j = doc_;
  j["keys"][0]["address"] = j["keys"][1]["address"];
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);

  j = doc_;
  j["keys"][0]["private_key"] = j["keys"][1]["private_key"];
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);

  j = doc_;
  j["keys"][0]["private_key"] = std::string(64, '0');
  EXPECT_EQ(OpenWith(j), ErrorCode::kInvalidKey);

  j = doc_;
  j["keys"][0]["private_key"] = "not hex";
  EXPECT_EQ(OpenWith(j), ErrorCode::kBadEncoding);

  j = doc_;
  j["keys"][1]["name"] = j["keys"][0]["name"];
  j["keys"][1]["private_key"] = j["keys"][0]["private_key"];
  j["keys"][1]["pubkey"] = j["keys"][0]["pubkey"];
  j["keys"][1]["address"] = j["keys"][0]["address"];
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);  // duplicate name

  j = doc_;
  j["keys"][0]["name"] = "UPPER";
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);
}

TEST_F(KeyringFileTest, StructureIsChecked) {
  json j = doc_;
  j["version"] = 2;
  EXPECT_EQ(OpenWith(j), ErrorCode::kUnsupported);
  j = doc_;
  j["version"] = "1";
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);
  j = doc_;
  j.erase("keys");
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);
  j = doc_;
  j["keys"][0].erase("created");
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);
  j = doc_;
  j["keys"][0]["name"] = 7;
  EXPECT_EQ(OpenWith(j), ErrorCode::kMalformed);
  EXPECT_EQ(OpenWith(json::array()), ErrorCode::kMalformed);

  std::ofstream(file_, std::ios::trunc) << "{\"version\": 1, \"keys\": [";
  EXPECT_EQ(OpenCode(tmp_.path()), ErrorCode::kBadEncoding);
  {
    std::ofstream big(file_, std::ios::trunc);
    big << std::string(kMaxKeyringFileSize + 1, ' ');
  }
  EXPECT_EQ(OpenCode(tmp_.path()), ErrorCode::kLengthTooLarge);
}

TEST(Keyring, WritersOpenedEarlierDoNotLoseEachOthersKeys) {
  TempDir tmp;
  auto k1 = Keyring::Open(tmp.path());
  auto k2 = Keyring::Open(tmp.path());
  ASSERT_TRUE(k1.ok() && k2.ok());
  ASSERT_TRUE(k1->Add("a").ok());
  ASSERT_TRUE(k2->Add("b").ok());  // k2 never saw "a" before this call
  EXPECT_EQ(k2->Add("a").error().code(), ErrorCode::kAlreadyExists);
  auto k3 = Keyring::Open(tmp.path());
  ASSERT_TRUE(k3.ok());
  EXPECT_EQ(k3->List().size(), 2u);
}

TEST(Keyring, ConcurrentWritersAllLand) {
  TempDir tmp;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each writer has its own Keyring and so its own lock file descriptor, like separate processes.
      auto k = Keyring::Open(tmp.path());
      if (!k.ok()) {
        failures[t] = kPerThread;
        return;
      }
      for (int i = 0; i < kPerThread; ++i) {
        if (!k->Add("t" + std::to_string(t) + "-" + std::to_string(i)).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  auto k = Keyring::Open(tmp.path());
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->List().size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(Keyring, DefaultHomeFromEnvironment) {
  const char* old_cmln = std::getenv("CMLN_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_cmln = old_cmln ? old_cmln : "";
  const std::string saved_home = old_home ? old_home : "";

  ::setenv("CMLN_HOME", "/x/cmln-home", 1);
  EXPECT_EQ(*Keyring::DefaultHome(), "/x/cmln-home");
  ::setenv("CMLN_HOME", "", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(*Keyring::DefaultHome(), "/home/u/.cmln");
  ::unsetenv("CMLN_HOME");
  ::unsetenv("HOME");
  EXPECT_EQ(Keyring::DefaultHome().error().code(), ErrorCode::kInvalidArgument);

  if (old_cmln) ::setenv("CMLN_HOME", saved_cmln.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace cmln::seal
