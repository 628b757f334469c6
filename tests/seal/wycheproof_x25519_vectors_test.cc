// Project Wycheproof X25519 (testvectors_v1/x25519_test.json): every test case through seal::X25519.
//
// Policy for "acceptable" cases (documented choice, asserted per case):
//  - a peer key that yields the all-zero shared secret (flag ZeroSharedSecret: low-order points on the
//    curve or twist) is rejected with kInvalidKey, as RFC 9180 section 7.1.4 requires for DHKEM;
//  - every other acceptable case (points on the twist, non-canonical u-coordinates >= p, special
//    public keys) is computed per RFC 7748 and must give exactly the listed shared secret.
// Both X25519() and the prepared X25519PrivateKey::SharedSecret (used by HPKE) are checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "seal/crypto.h"
#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;

bool HasFlag(const nlohmann::json& test, const std::string& flag) {
  for (const auto& f : test.at("flags")) {
    if (f.get<std::string>() == flag) return true;
  }
  return false;
}

TEST(WycheproofX25519, AllCases) {
  const auto doc = testing::ReadJsonOrDie(testing::DataPath("vectors/wycheproof_x25519_test.json"));
  ASSERT_EQ(doc.at("algorithm").get<std::string>(), "XDH");
  const size_t declared = doc.at("numberOfTests").get<size_t>();

  size_t total = 0;
  size_t valid = 0;
  size_t acceptable_computed = 0;
  size_t acceptable_rejected_zero = 0;
  for (const auto& group : doc.at("testGroups")) {
    ASSERT_EQ(group.at("type").get<std::string>(), "XdhComp");
    ASSERT_EQ(group.at("curve").get<std::string>(), "curve25519");
    for (const auto& t : group.at("tests")) {
      ++total;
      const int id = t.at("tcId").get<int>();
      SCOPED_TRACE("tcId " + std::to_string(id) + ": " + t.at("comment").get<std::string>());
      const Bytes pub = Hex(t.at("public").get<std::string>());
      const Bytes priv = Hex(t.at("private").get<std::string>());
      const Bytes shared = Hex(t.at("shared").get<std::string>());
      const std::string result = t.at("result").get<std::string>();
      const bool zero_shared = std::all_of(shared.begin(), shared.end(), [](uint8_t b) { return b == 0; });

      auto got = X25519(priv, pub);
      // The prepared-key path (what HPKE uses) must agree with the one-shot function exactly.
      auto prepared = X25519PrivateKey::FromBytes(priv);
      ASSERT_TRUE(prepared.ok());
      auto got_prepared = prepared->SharedSecret(pub);
      ASSERT_EQ(got_prepared.ok(), got.ok());
      if (got.ok()) {
        EXPECT_EQ(ToBytes(got_prepared->view()), ToBytes(got->view()));
      } else {
        EXPECT_EQ(got_prepared.error().code(), got.error().code());
      }
      if (result == "valid") {
        ++valid;
        ASSERT_FALSE(zero_shared);
        ASSERT_TRUE(got.ok()) << got.error().ToString();
        EXPECT_EQ(ToBytes(got->view()), shared);
      } else if (result == "acceptable") {
        // The flag and the listed output agree on which cases are the all-zero ones.
        ASSERT_EQ(zero_shared, HasFlag(t, "ZeroSharedSecret"));
        if (zero_shared) {
          ++acceptable_rejected_zero;
          ASSERT_FALSE(got.ok());
          EXPECT_EQ(got.error().code(), ErrorCode::kInvalidKey);
        } else {
          ++acceptable_computed;
          ASSERT_TRUE(got.ok()) << got.error().ToString();
          EXPECT_EQ(ToBytes(got->view()), shared);
        }
      } else {
        // The file has no "invalid" X25519 cases; if a new version adds some, they must fail.
        ASSERT_EQ(result, "invalid");
        EXPECT_FALSE(got.ok());
      }
    }
  }
  EXPECT_EQ(total, declared);
  EXPECT_EQ(total, 518u);  // no skips
  EXPECT_EQ(valid, 264u);
  EXPECT_EQ(acceptable_rejected_zero, 31u);
  EXPECT_EQ(acceptable_computed, 223u);
}

// Every key pair the file lists as valid also round-trips through X25519FromPrivate: the derived
// public key agrees with a direct multiplication by the base point 9.
TEST(WycheproofX25519, PublicKeyDerivationMatchesBasePointMultiplication) {
  const auto doc = testing::ReadJsonOrDie(testing::DataPath("vectors/wycheproof_x25519_test.json"));
  Bytes base_point(32, 0);
  base_point[0] = 9;
  size_t checked = 0;
  for (const auto& group : doc.at("testGroups")) {
    for (const auto& t : group.at("tests")) {
      if (t.at("result").get<std::string>() != "valid") continue;
      const Bytes priv = Hex(t.at("private").get<std::string>());
      auto kp = X25519FromPrivate(priv);
      ASSERT_TRUE(kp.ok());
      auto direct = X25519(priv, base_point);
      ASSERT_TRUE(direct.ok());
      EXPECT_EQ(ToBytes(ByteView(kp->public_key)), ToBytes(direct->view())) << "tcId " << t.at("tcId").get<int>();
      ++checked;
    }
  }
  EXPECT_EQ(checked, 264u);
}

}  // namespace
}  // namespace cmln::seal
