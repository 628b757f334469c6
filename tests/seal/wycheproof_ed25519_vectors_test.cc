// Project Wycheproof Ed25519 (testvectors_v1/ed25519_test.json) through seal::Ed25519Verify.
// "valid": must verify. "invalid" (special r/s values, truncated or padded signatures, modified R,
// s + k*L malleability, s with high bits set, R with y = 1 and the x sign bit): must be rejected with
// kBadSignature. Every group's public key is well formed, so kInvalidKey never applies. No skips.
#include <gtest/gtest.h>

#include <string>

#include "seal/crypto.h"
#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;

TEST(WycheproofEd25519, AllCases) {
  const auto doc = testing::ReadJsonOrDie(testing::DataPath("vectors/wycheproof_ed25519_test.json"));
  ASSERT_EQ(doc.at("algorithm").get<std::string>(), "EDDSA");
  size_t total = 0;
  size_t valid = 0;
  size_t invalid = 0;
  size_t malleability = 0;
  for (const auto& group : doc.at("testGroups")) {
    ASSERT_EQ(group.at("type").get<std::string>(), "EddsaVerify");
    const auto& key = group.at("publicKey");
    ASSERT_EQ(key.at("curve").get<std::string>(), "edwards25519");
    const Bytes pk = Hex(key.at("pk").get<std::string>());
    ASSERT_EQ(pk.size(), kEd25519PublicKeySize);
    for (const auto& t : group.at("tests")) {
      ++total;
      SCOPED_TRACE("tcId " + std::to_string(t.at("tcId").get<int>()) + ": " + t.at("comment").get<std::string>());
      const Bytes msg = Hex(t.at("msg").get<std::string>());
      const Bytes sig = Hex(t.at("sig").get<std::string>());
      const std::string result = t.at("result").get<std::string>();
      Status st = Ed25519Verify(pk, msg, sig);
      if (result == "valid") {
        ++valid;
        EXPECT_TRUE(st.ok()) << st.error().ToString();
      } else {
        ASSERT_EQ(result, "invalid");
        ++invalid;
        for (const auto& f : t.at("flags")) {
          if (f.get<std::string>() == "SignatureMalleability") ++malleability;
        }
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
      }
    }
  }
  EXPECT_EQ(total, doc.at("numberOfTests").get<size_t>());
  EXPECT_EQ(total, 151u);
  EXPECT_EQ(valid, 88u);
  EXPECT_EQ(invalid, 63u);
  EXPECT_EQ(malleability, 8u);
}

}  // namespace
}  // namespace cmln::seal
