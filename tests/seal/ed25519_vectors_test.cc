// Ed25519 known answers (RFC 8032 pure Ed25519) from outside sources:
//  - RFC 8032 section 7.1 (as carried in ring): sign with the seed gives the exact signature, and it verifies;
//  - the 514 SUPERCOP sign.input vectors in ring's key = value format: the public key derived from the
//    seed, the exact signature, verification; plus a one-bit change to the message must not verify;
//  - BoringSSL's malleability cases (ring's verify file): S out of range (S + L) must be rejected,
//    the in-range controls must verify.
#include <gtest/gtest.h>

#include <string>

#include "seal/crypto.h"
#include "testing/test_util.h"

namespace cmln::seal {
namespace {

using testing::Hex;
using testing::ReadVectorFile;
using testing::VectorBlock;

// ring's files write the empty message as "".
Bytes MessageOf(const VectorBlock& b) {
  const std::string& m = b.Get("MESSAGE");
  return m == "\"\"" ? Bytes{} : Hex(m);
}

Bytes SigBytes(const Ed25519Signature& s) { return Bytes(s.begin(), s.end()); }
Bytes PubBytes(const Ed25519PublicKey& k) { return Bytes(k.begin(), k.end()); }

TEST(Ed25519Vectors, Rfc8032Section7_1) {
  const auto doc = testing::ReadJsonOrDie(testing::DataPath("vectors/ed25519_rfc8032_sec7_1.json"));
  size_t n = 0;
  for (const auto& v : doc.at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    const Bytes seed = Hex(v.at("secret_key").get<std::string>());
    const Bytes pub = Hex(v.at("public_key").get<std::string>());
    const Bytes msg = Hex(v.at("message").get<std::string>());
    const Bytes sig = Hex(v.at("signature").get<std::string>());
    auto key = Ed25519PrivateKey::FromSeed(seed);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    EXPECT_EQ(PubBytes(key->public_key()), pub);
    EXPECT_EQ(ToBytes(key->seed()), seed);
    auto signed_sig = key->Sign(msg);
    ASSERT_TRUE(signed_sig.ok()) << signed_sig.error().ToString();
    EXPECT_EQ(SigBytes(*signed_sig), sig);
    Status st = Ed25519Verify(pub, msg, sig);
    EXPECT_TRUE(st.ok()) << st.error().ToString();
    ++n;
  }
  // TEST 1, 2, 3, 1024 and SHA(abc) of section 7.1.
  EXPECT_EQ(n, 5u);
}

TEST(Ed25519Vectors, SupercopSignInput) {
  const auto cases = ReadVectorFile(testing::DataPath("vectors/ed25519_sign_input_ring.txt"));
  size_t n = 0;
  size_t empty_messages = 0;
  for (const auto& c : cases) {
    // Blocks made only of comments (the generator script in the file header) carry no vector.
    if (!c.attrs.Has("SEED")) continue;
    SCOPED_TRACE("vector at line " + std::to_string(c.line));
    const Bytes seed = c.attrs.GetHex("SEED");
    const Bytes pub = c.attrs.GetHex("PUB");
    const Bytes msg = MessageOf(c.attrs);
    const Bytes sig = c.attrs.GetHex("SIG");
    EXPECT_TRUE(c.attrs.Unused().empty()) << ::testing::PrintToString(c.attrs.Unused());
    if (msg.empty()) ++empty_messages;

    auto key = Ed25519PrivateKey::FromSeed(seed);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    ASSERT_EQ(PubBytes(key->public_key()), pub);
    auto signed_sig = key->Sign(msg);
    ASSERT_TRUE(signed_sig.ok()) << signed_sig.error().ToString();
    ASSERT_EQ(SigBytes(*signed_sig), sig);
    Status st = Ed25519Verify(pub, msg, sig);
    ASSERT_TRUE(st.ok()) << st.error().ToString();

    // The same signature over a message differing in one bit must not verify.
    Bytes other = msg;
    if (other.empty()) {
      other.push_back(0x00);
    } else {
      other[other.size() / 2] ^= 0x01;
    }
    Status bad = Ed25519Verify(pub, other, sig);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code(), ErrorCode::kBadSignature);
    ++n;
  }
  EXPECT_EQ(n, 514u);
  EXPECT_EQ(empty_messages, 1u);
}

TEST(Ed25519Vectors, MalleabilityOutOfRangeSRejected) {
  const auto cases = ReadVectorFile(testing::DataPath("vectors/ed25519_verify_malleability_ring.txt"));
  size_t pass = 0;
  size_t fail = 0;
  for (const auto& c : cases) {
    if (!c.attrs.Has("SIG")) continue;
    SCOPED_TRACE("vector at line " + std::to_string(c.line));
    const Bytes pub = c.attrs.GetHex("PUB");
    const Bytes msg = MessageOf(c.attrs);
    const Bytes sig = c.attrs.GetHex("SIG");
    const std::string want = c.attrs.Get("Result");
    EXPECT_TRUE(c.attrs.Unused().empty()) << ::testing::PrintToString(c.attrs.Unused());
    Status st = Ed25519Verify(pub, msg, sig);
    if (want == "P") {
      ++pass;
      EXPECT_TRUE(st.ok()) << st.error().ToString();
    } else {
      ASSERT_EQ(want, "F");
      ++fail;
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
    }
  }
  EXPECT_EQ(pass, 3u);
  EXPECT_EQ(fail, 2u);
}

// S + L on a signature we produce ourselves: the scalar is the same mod L, so only the S < L check
// (RFC 8032 section 5.1.7) stands between this and acceptance.
TEST(Ed25519Vectors, OwnSignatureWithSPlusLRejected) {
  // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
  static const uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
  size_t tried = 0;
  for (uint8_t i = 0; i < 64 && tried < 8; ++i) {
    Bytes seed(32, i);
    auto key = Ed25519PrivateKey::FromSeed(seed);
    ASSERT_TRUE(key.ok());
    const Bytes msg = ToBytes(std::string_view("malleability"));
    auto sig = key->Sign(msg);
    ASSERT_TRUE(sig.ok());
    ASSERT_TRUE(Ed25519Verify(key->public_key(), msg, *sig).ok());
    // S + L fits in 256 bits whenever S < 2^256 - L; S < L < 2^253, so always.
    Ed25519Signature mauled = *sig;
    unsigned carry = 0;
    for (size_t b = 0; b < 32; ++b) {
      unsigned v = unsigned{mauled[32 + b]} + kL[b] + carry;
      mauled[32 + b] = static_cast<uint8_t>(v);
      carry = v >> 8;
    }
    ASSERT_EQ(carry, 0u);
    Status st = Ed25519Verify(key->public_key(), msg, mauled);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), ErrorCode::kBadSignature);
    ++tried;
  }
  EXPECT_EQ(tried, 8u);
}

}  // namespace
}  // namespace cmln::seal
