// Project Wycheproof AES-GCM and ChaCha20-Poly1305 (testvectors_v1/) through seal::Aead.
//
// Our Aead fixes the nonce at 12 bytes and the tag at 16 bytes, and offers AES-128/256 only. So:
//  - "valid" cases with a 12-byte IV and 16-byte tag: Seal must give exactly ct || tag, Open must give
//    exactly msg;
//  - "invalid" cases with a 12-byte IV (modified tags): Open must fail with kDecryptFailed;
//  - "invalid" cases with another IV size (zero-length IV, wrong ChaCha nonce sizes): both Seal and
//    Open must refuse the nonce with kInvalidArgument;
//  - "valid" cases with another IV size cannot be expressed in our API: skipped, not applicable;
//  - AES-192 keys: skipped (not offered).
// The number of cases run and skipped is asserted, so a regression that silently drops cases fails.
#include <gtest/gtest.h>

#include <string>

#include "seal/crypto.h"
#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;

struct AeadCounts {
  size_t total = 0;
  size_t run_valid = 0;
  size_t run_invalid_tag = 0;
  size_t run_invalid_nonce = 0;
  size_t skipped_key_size = 0;
  size_t skipped_nonce_size = 0;
  size_t run() const { return run_valid + run_invalid_tag + run_invalid_nonce; }
};

// Runs one Wycheproof AEAD file. `alg_for_key_bytes` maps a key size to our algorithm, or returns
// false for a key size we do not offer. Counts go to `*counts` (void, so ASSERT_* can return).
template <typename AlgFor>
void RunAeadFile(const std::string& file, const std::string& algorithm, AlgFor alg_for_key_bytes,
                 AeadCounts* counts) {
  const auto doc = testing::ReadJsonOrDie(testing::DataPath("vectors/" + file));
  EXPECT_EQ(doc.at("algorithm").get<std::string>(), algorithm);
  AeadCounts& n = *counts;
  for (const auto& group : doc.at("testGroups")) {
    EXPECT_EQ(group.at("type").get<std::string>(), "AeadTest");
    const size_t key_bits = group.at("keySize").get<size_t>();
    const size_t iv_bits = group.at("ivSize").get<size_t>();
    const size_t tag_bits = group.at("tagSize").get<size_t>();
    for (const auto& t : group.at("tests")) {
      ++n.total;
      const int id = t.at("tcId").get<int>();
      SCOPED_TRACE(file + " tcId " + std::to_string(id) + ": " + t.at("comment").get<std::string>());
      const Bytes key = Hex(t.at("key").get<std::string>());
      const Bytes iv = Hex(t.at("iv").get<std::string>());
      const Bytes aad = Hex(t.at("aad").get<std::string>());
      const Bytes msg = Hex(t.at("msg").get<std::string>());
      const Bytes ct = Hex(t.at("ct").get<std::string>());
      const Bytes tag = Hex(t.at("tag").get<std::string>());
      const std::string result = t.at("result").get<std::string>();
      EXPECT_EQ(key.size() * 8, key_bits);
      EXPECT_EQ(iv.size() * 8, iv_bits);
      EXPECT_TRUE(result == "valid" || result == "invalid") << result;

      AeadAlgorithm alg{};
      if (!alg_for_key_bytes(key.size(), &alg)) {
        ++n.skipped_key_size;
        continue;
      }
      auto aead = Aead::Create(alg, key);
      if (!aead.ok()) {
        ADD_FAILURE() << aead.error().ToString();
        continue;
      }
      const Bytes sealed_expected = Concat(ct, tag);

      if (iv.size() != kAeadNonceSize || tag_bits != kAeadTagSize * 8) {
        if (result == "valid") {
          ++n.skipped_nonce_size;
          continue;
        }
        // An invalid case with a nonce our API does not take: it must be refused outright.
        ++n.run_invalid_nonce;
        EXPECT_EQ(tag_bits, kAeadTagSize * 8);
        auto sealed = aead->Seal(iv, aad, msg);
        ASSERT_FALSE(sealed.ok());
        EXPECT_EQ(sealed.error().code(), ErrorCode::kInvalidArgument);
        auto opened = aead->Open(iv, aad, sealed_expected);
        ASSERT_FALSE(opened.ok());
        EXPECT_EQ(opened.error().code(), ErrorCode::kInvalidArgument);
        continue;
      }

      auto opened = aead->Open(iv, aad, sealed_expected);
      if (result == "valid") {
        ++n.run_valid;
        auto sealed = aead->Seal(iv, aad, msg);
        ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
        EXPECT_EQ(*sealed, sealed_expected);
        ASSERT_TRUE(opened.ok()) << opened.error().ToString();
        EXPECT_EQ(*opened, msg);
      } else {
        ++n.run_invalid_tag;
        ASSERT_FALSE(opened.ok());
        EXPECT_EQ(opened.error().code(), ErrorCode::kDecryptFailed);
      }
    }
  }
  EXPECT_EQ(n.total, doc.at("numberOfTests").get<size_t>());
}

TEST(WycheproofAead, AesGcm) {
  AeadCounts n;
  RunAeadFile(
      "wycheproof_aes_gcm_test.json", "AES-GCM",
      [](size_t key_bytes, AeadAlgorithm* alg) {
        if (key_bytes == 16) {
          *alg = AeadAlgorithm::kAes128Gcm;
        } else if (key_bytes == 32) {
          *alg = AeadAlgorithm::kAes256Gcm;
        } else {
          return false;  // AES-192: not offered
        }
        return true;
      },
      &n);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(n.total, 316u);
  EXPECT_EQ(n.skipped_key_size, 103u);    // every AES-192 case
  EXPECT_EQ(n.skipped_nonce_size, 76u);   // valid AES-128/256 cases with IVs of 1..257 bytes other than 12
  EXPECT_EQ(n.run_valid, 79u);
  EXPECT_EQ(n.run_invalid_tag, 54u);
  EXPECT_EQ(n.run_invalid_nonce, 4u);     // zero-length IVs
  EXPECT_EQ(n.run() + n.skipped_key_size + n.skipped_nonce_size, n.total);
}

TEST(WycheproofAead, ChaCha20Poly1305) {
  AeadCounts n;
  RunAeadFile(
      "wycheproof_chacha20_poly1305_test.json", "CHACHA20-POLY1305",
      [](size_t key_bytes, AeadAlgorithm* alg) {
        if (key_bytes != 32) return false;
        *alg = AeadAlgorithm::kChaCha20Poly1305;
        return true;
      },
      &n);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(n.total, 325u);
  EXPECT_EQ(n.skipped_key_size, 0u);
  EXPECT_EQ(n.skipped_nonce_size, 0u);
  EXPECT_EQ(n.run_valid, 256u);
  EXPECT_EQ(n.run_invalid_tag, 60u);
  EXPECT_EQ(n.run_invalid_nonce, 9u);
  EXPECT_EQ(n.run(), n.total);
}

}  // namespace
}  // namespace cmln::seal
