// Unit tests of common/bytes.h: strict hex and base64 (RFC 4648 section 10 vectors, one accepted
// encoding per byte string), constant-time comparison, and SecretBytes ownership.
#include "common/bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace cmln {
namespace {

void ExpectBadEncoding(const Result<Bytes>& r, const std::string& input) {
  ASSERT_FALSE(r.ok()) << "accepted \"" << input << "\"";
  EXPECT_EQ(r.error().code(), ErrorCode::kBadEncoding) << input;
}

TEST(Hex, EncodeLowercaseDecodeEitherCase) {
  EXPECT_EQ(HexEncode(Bytes{}), "");
  EXPECT_EQ(HexEncode(Bytes{0x00, 0x01, 0xab, 0xff}), "0001abff");
  auto lower = HexDecode("0001abff");
  auto upper = HexDecode("0001ABFF");
  auto mixed = HexDecode("0001aBfF");
  ASSERT_TRUE(lower.ok() && upper.ok() && mixed.ok());
  EXPECT_EQ(*lower, (Bytes{0x00, 0x01, 0xab, 0xff}));
  EXPECT_EQ(*upper, *lower);
  EXPECT_EQ(*mixed, *lower);
  auto empty = HexDecode("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  Bytes all(256);
  for (size_t i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  auto round = HexDecode(HexEncode(all));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(*round, all);
}

TEST(Hex, StrictDecoding) {
  for (const char* bad : {"0", "abc", "0g", "g0", "0x00", " 00", "00 ", "0\n", "zz", "-1", "00:11"}) {
    ExpectBadEncoding(HexDecode(bad), bad);
  }
  // A NUL inside the string is a bad character, not a terminator.
  ExpectBadEncoding(HexDecode(std::string_view("00\0" "0", 4)), "00\\00");
  // The message gives the offset of the bad character.
  auto r = HexDecode("00112x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("5"), std::string::npos) << r.error().message();
}

TEST(Base64, Rfc4648Section10Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},     {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    SCOPED_TRACE(plain);
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    auto d = Base64Decode(encoded);
    ASSERT_TRUE(d.ok()) << d.error().ToString();
    EXPECT_EQ(AsChars(*d), plain);
  }
}

TEST(Base64, RoundTripEveryLengthAndByte) {
  for (size_t len = 0; len < 70; ++len) {
    Bytes b(len);
    for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(251 * i + len);
    auto d = Base64Decode(Base64Encode(b));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, b) << len;
  }
  for (int v = 0; v < 256; ++v) {
    for (size_t len : {1u, 2u, 3u}) {
      const Bytes b(len, static_cast<uint8_t>(v));
      auto d = Base64Decode(Base64Encode(b));
      ASSERT_TRUE(d.ok());
      EXPECT_EQ(*d, b);
    }
  }
  // Every alphabet character decodes (and the full alphabet re-encodes to itself).
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto d = Base64Decode(alphabet);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Base64Encode(*d), alphabet);
}

TEST(Base64, NonCanonicalPaddingBitsRejected) {
  // "f" is Zg==; Zh.., Zi.., ..., Zv== carry nonzero bits below the encoded byte.
  for (const char* bad : {"Zh==", "Zi==", "Zj==", "Zk==", "Zv==", "Z/=="}) ExpectBadEncoding(Base64Decode(bad), bad);
  // "fo" is Zm8=; Zm9= .. Zm/= carry nonzero low bits.
  for (const char* bad : {"Zm9=", "Zm+=", "Zm/=", "Zm9vZm9=", "Zm9vZh=="}) ExpectBadEncoding(Base64Decode(bad), bad);
  // The canonical forms next to them are fine.
  EXPECT_TRUE(Base64Decode("Zg==").ok());
  EXPECT_TRUE(Base64Decode("Zm8=").ok());
  EXPECT_TRUE(Base64Decode("AA==").ok());
  EXPECT_TRUE(Base64Decode("AAA=").ok());
}

TEST(Base64, BadCharactersAndLayoutRejected) {
  const char* bad[] = {
      "Zg",        // padding required
      "Zg=",       // length not a multiple of 4
      "Zm9",       //
      "Zm9vY",     //
      "Z===",      // at most two padding characters
      "====",      //
      "=Zg=",      // padding only at the end
      "Zg=a",      // nothing after padding
      "Zg==Zg==",  // padding inside the text
      "Zm9vZm 9",  // whitespace
      "Zm9\n",     //
      "Zm9v\r\n",  //
      "Zm9-",      // base64url characters are not base64
      "Zm9_",      //
      "Zm9.",      //
      "Zm9\x80",   // high-bit byte
  };
  for (const char* b : bad) ExpectBadEncoding(Base64Decode(b), b);
  ExpectBadEncoding(Base64Decode(std::string_view("Zm9\0", 4)), "Zm9\\0");
}

TEST(ConstantTimeEqual, Basics) {
  const Bytes a = {1, 2, 3, 4, 5};
  EXPECT_TRUE(ConstantTimeEqual(a, a));
  EXPECT_TRUE(ConstantTimeEqual(a, Bytes{1, 2, 3, 4, 5}));
  EXPECT_TRUE(ConstantTimeEqual(Bytes{}, Bytes{}));
  EXPECT_FALSE(ConstantTimeEqual(a, Bytes{}));
  EXPECT_FALSE(ConstantTimeEqual(Bytes{}, a));
  EXPECT_FALSE(ConstantTimeEqual(a, Bytes{1, 2, 3, 4}));      // prefix
  EXPECT_FALSE(ConstantTimeEqual(a, Bytes{1, 2, 3, 4, 5, 6}));  // extension
  for (size_t i = 0; i < a.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = a;
      b[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_FALSE(ConstantTimeEqual(a, b)) << i << "/" << bit;
    }
  }
}

TEST(Bytes, HelpersConcatenateAndView) {
  EXPECT_EQ(Concat(Bytes{1}, std::string_view("ab"), Bytes{}, Bytes{2}), (Bytes{1, 'a', 'b', 2}));
  EXPECT_EQ(ToBytes(std::string_view("xy")), (Bytes{'x', 'y'}));
  EXPECT_EQ(AsChars(AsBytes("hello")), "hello");
  Bytes out = {9};
  Append(out, AsBytes("z"));
  EXPECT_EQ(out, (Bytes{9, 'z'}));
}

TEST(SecretBytes, MoveCloneAndViews) {
  SecretBytes s(Bytes{1, 2, 3});
  EXPECT_EQ(s.size(), 3u);
  SecretBytes c = s.Clone();
  EXPECT_EQ(ToBytes(c.view()), ToBytes(s.view()));
  EXPECT_NE(c.data(), s.data());  // an independent copy
  SecretBytes moved(std::move(s));
  EXPECT_EQ(ToBytes(moved.view()), (Bytes{1, 2, 3}));
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  SecretBytes assigned;
  assigned = std::move(moved);
  EXPECT_EQ(ToBytes(assigned.view()), (Bytes{1, 2, 3}));
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  assigned.span()[0] = 7;
  EXPECT_EQ(assigned.view()[0], 7);
  SecretBytes zeros(4);
  EXPECT_EQ(ToBytes(zeros.view()), Bytes(4, 0));
}

TEST(SecureZero, Zeroes) {
  uint8_t buf[16];
  for (auto& b : buf) b = 0xa5;
  SecureZero(buf, sizeof(buf));
  for (uint8_t b : buf) EXPECT_EQ(b, 0);
}

}  // namespace
}  // namespace cmln
