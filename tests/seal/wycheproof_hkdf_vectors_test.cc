// Project Wycheproof HKDF-SHA-256 (testvectors_v1/hkdf_sha256_test.json) through HkdfExtract +
// HkdfExpand. "valid": the output keying material must match exactly; "invalid" (every one is an
// output size above 255 * HashLen): HkdfExpand must refuse with kInvalidArgument. No skips.
#include <gtest/gtest.h>

#include <string>

#include "seal/crypto.h"
#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;

TEST(WycheproofHkdf, Sha256AllCases) {
  const auto doc = testing::ReadJsonOrDie(testing::DataPath("vectors/wycheproof_hkdf_sha256_test.json"));
  ASSERT_EQ(doc.at("algorithm").get<std::string>(), "HKDF-SHA-256");
  size_t total = 0;
  size_t valid = 0;
  size_t invalid = 0;
  size_t empty_salt = 0;
  for (const auto& group : doc.at("testGroups")) {
    ASSERT_EQ(group.at("type").get<std::string>(), "HkdfTest");
    const size_t ikm_bits = group.at("keySize").get<size_t>();
    for (const auto& t : group.at("tests")) {
      ++total;
      SCOPED_TRACE("tcId " + std::to_string(t.at("tcId").get<int>()) + ": " + t.at("comment").get<std::string>());
      const Bytes ikm = Hex(t.at("ikm").get<std::string>());
      const Bytes salt = Hex(t.at("salt").get<std::string>());
      const Bytes info = Hex(t.at("info").get<std::string>());
      const size_t size = t.at("size").get<size_t>();
      const Bytes okm = Hex(t.at("okm").get<std::string>());
      const std::string result = t.at("result").get<std::string>();
      EXPECT_EQ(ikm.size() * 8, ikm_bits);
      if (salt.empty()) ++empty_salt;

      const SecretBytes prk = HkdfExtract(salt, ikm);
      ASSERT_EQ(prk.size(), 32u);
      auto got = HkdfExpand(prk.view(), info, size);
      if (result == "valid") {
        ++valid;
        ASSERT_TRUE(got.ok()) << got.error().ToString();
        ASSERT_EQ(got->size(), size);
        EXPECT_EQ(ToBytes(got->view()), okm);
      } else {
        ASSERT_EQ(result, "invalid");
        ++invalid;
        EXPECT_GT(size, 255u * 32u);
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument);
      }
    }
  }
  EXPECT_EQ(total, doc.at("numberOfTests").get<size_t>());
  EXPECT_EQ(total, 86u);
  EXPECT_EQ(valid, 83u);
  EXPECT_EQ(invalid, 3u);
  EXPECT_EQ(empty_salt, 23u);  // RFC 5869's absent salt, as an empty byte string
}

}  // namespace
}  // namespace cmln::seal
