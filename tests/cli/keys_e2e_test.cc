// `cmln keys` end to end: the built binary in a temporary home. Adds, lists and shows keys, checks
// exit codes and error output, the keyring file's mode, refusal of a world-readable keyring, and that
// a key taken from the keyring signs what its shown public key verifies.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "seal/account_key.h"
#include "testing/test_util.h"

namespace cmln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunProcess;

class KeysE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cmln-keys-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    home_ = root_ + "/home";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static std::string Binary() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }

  // Runs `cmln keys ARGS --home HOME`; stderr is discarded unless `merge_stderr`.
  testing::ProcessResult Keys(const std::string& args, bool merge_stderr = false) {
    return RunProcess("'" + Binary() + "' keys " + args + " --home '" + home_ + "'" +
                      (merge_stderr ? " 2>&1" : " 2>/dev/null"));
  }

  static json Parse(const std::string& out) {
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }

  std::string root_;
  std::string home_;
};

TEST_F(KeysE2e, AddListShowAndSign) {
  auto add = Keys("add alice --json");
  ASSERT_EQ(add.exit_code, 0) << add.out;
  const json alice = Parse(add.out);
  EXPECT_EQ(alice.at("name"), "alice");
  const std::string address = alice.at("address");
  const std::string pubkey = alice.at("pubkey");
  EXPECT_EQ(address.rfind("gonka1", 0), 0u) << address;
  EXPECT_EQ(pubkey.size(), 66u);
  EXPECT_FALSE(alice.contains("private_key"));

  auto add_bob = Keys("add bob");
  ASSERT_EQ(add_bob.exit_code, 0);
  EXPECT_NE(add_bob.out.find("address: gonka1"), std::string::npos) << add_bob.out;

  // The keyring file and its directory are private.
  EXPECT_EQ(ModeOf(home_ + "/keyring.json"), 0600u);
  EXPECT_EQ(ModeOf(home_), 0700u);

  auto list = Keys("list --json");
  ASSERT_EQ(list.exit_code, 0);
  const json keys = Parse(list.out).at("keys");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("name"), "alice");
  EXPECT_EQ(keys[0].at("address"), address);
  EXPECT_EQ(keys[1].at("name"), "bob");
  for (const auto& k : keys) EXPECT_FALSE(k.contains("private_key"));

  auto list_text = Keys("list");
  ASSERT_EQ(list_text.exit_code, 0);
  EXPECT_EQ(list_text.out.substr(0, list_text.out.find('\n')), "alice\t" + address + "\t" + pubkey);

  auto show = Keys("show alice --json");
  ASSERT_EQ(show.exit_code, 0);
  const json shown = Parse(show.out);
  EXPECT_EQ(shown.at("address"), address);
  EXPECT_EQ(shown.at("pubkey"), pubkey);
  EXPECT_FALSE(shown.contains("private_key"));
  auto show_text = Keys("show alice");
  ASSERT_EQ(show_text.exit_code, 0);
  EXPECT_EQ(show_text.out.find("private_key"), std::string::npos);

  // Only an explicit --export-private reveals the key; it is the key behind the shown public key.
  auto exported = Keys("show alice --json --export-private");
  ASSERT_EQ(exported.exit_code, 0);
  const json secret = Parse(exported.out);
  auto key = seal::AccountPrivateKey::FromBytes(testing::Hex(secret.at("private_key").get<std::string>()));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(HexEncode(key->public_key()), pubkey);
  EXPECT_EQ(seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key->public_key())), address);

  const std::string message = "MsgSend 5ngonka to bob";
  auto sig = key->SignMessage(AsBytes(message));
  ASSERT_TRUE(sig.ok());
  const Bytes shown_pubkey = testing::Hex(pubkey);
  EXPECT_TRUE(seal::Secp256k1VerifyMessage(shown_pubkey, AsBytes(message), *sig).ok());
  auto tampered = seal::Secp256k1VerifyMessage(shown_pubkey, AsBytes(message + "0"), *sig);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code(), ErrorCode::kBadSignature);
  // Bob's shown key does not verify Alice's signature.
  auto bob_key = testing::Hex(keys[1].at("pubkey").get<std::string>());
  EXPECT_EQ(seal::Secp256k1VerifyMessage(bob_key, AsBytes(message), *sig).error().code(), ErrorCode::kBadSignature);
}

TEST_F(KeysE2e, DuplicateAddFailsWithAlreadyExists) {
  ASSERT_EQ(Keys("add alice").exit_code, 0);
  auto again = Keys("add alice", /*merge_stderr=*/true);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("error: already_exists: "), std::string::npos) << again.out;

  auto again_json = Keys("add alice --json");
  EXPECT_EQ(again_json.exit_code, 1);
  const json err = Parse(again_json.out);
  EXPECT_EQ(err.at("error").at("code"), "already_exists");
  EXPECT_FALSE(err.at("error").at("message").get<std::string>().empty());

  auto list = Keys("list --json");
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(Parse(list.out).at("keys").size(), 1u);
}

TEST_F(KeysE2e, WorldReadableKeyringIsRefused) {
  ASSERT_EQ(Keys("add alice").exit_code, 0);
  const std::string file = home_ + "/keyring.json";
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);

  auto list = Keys("list", /*merge_stderr=*/true);
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_NE(list.out.find("error: permission_denied: "), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("chmod 600 " + file), std::string::npos) << list.out;

  auto show = Keys("show alice --json");
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_EQ(Parse(show.out).at("error").at("code"), "permission_denied");
  EXPECT_EQ(Keys("add bob").exit_code, 1);

  // The fix the message names works.
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_EQ(Keys("list").exit_code, 0);
}

TEST_F(KeysE2e, ErrorsAndUsage) {
  auto missing = Keys("show nobody --json");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(Parse(missing.out).at("error").at("code"), "not_found");

  auto bad_name = Keys("add Alice", /*merge_stderr=*/true);
  EXPECT_EQ(bad_name.exit_code, 1);
  EXPECT_NE(bad_name.out.find("error: invalid_argument: "), std::string::npos) << bad_name.out;

  EXPECT_EQ(Keys("add").exit_code, 2);                // NAME is required
  EXPECT_EQ(Keys("show alice --bogus").exit_code, 2);  // unknown flag
  EXPECT_EQ(RunProcess("'" + Binary() + "' keys 2>/dev/null").exit_code, 2);

  // An empty keyring lists nothing.
  auto empty = Keys("list --json");
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_TRUE(Parse(empty.out).at("keys").empty());
}

TEST_F(KeysE2e, CmlnHomeIsTheDefault) {
  const std::string env_home = root_ + "/from-env";
  auto add = RunProcess("CMLN_HOME='" + env_home + "' '" + Binary() + "' keys add carol --json 2>/dev/null");
  ASSERT_EQ(add.exit_code, 0) << add.out;
  EXPECT_TRUE(fs::exists(env_home + "/keyring.json"));
  auto list = RunProcess("CMLN_HOME='" + env_home + "' '" + Binary() + "' keys list --json 2>/dev/null");
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(Parse(list.out).at("keys")[0].at("name"), "carol");
  // HOME/.cmln when CMLN_HOME is unset.
  auto via_home = RunProcess("env -u CMLN_HOME HOME='" + root_ + "' '" + Binary() + "' keys add dave 2>/dev/null");
  ASSERT_EQ(via_home.exit_code, 0);
  EXPECT_TRUE(fs::exists(root_ + "/.cmln/keyring.json"));
  EXPECT_EQ(ModeOf(root_ + "/.cmln"), 0700u);
}

}  // namespace
}  // namespace cmln
