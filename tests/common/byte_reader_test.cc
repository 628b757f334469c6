// Unit tests of common/byte_reader.h: every read either succeeds and advances or fails with
// kTruncated and leaves the cursor alone; QUIC varints per RFC 9000 (section 16 and the A.1 examples);
// length caps checked before the body is looked at.
#include "common/byte_reader.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "testing/test_util.h"

namespace cmln {
namespace {

using testing::Hex;

// Asserts that `read` on a reader over every proper prefix of `full` (from the reader's current
// position) fails with kTruncated and leaves offset/remaining unchanged, and that it succeeds on `full`.
void ExpectTruncationLeavesCursor(const Bytes& full, const std::function<bool(ByteReader&, ErrorCode*)>& read,
                                  const std::string& what) {
  SCOPED_TRACE(what);
  // A one-byte header already consumed, so "unchanged" is not trivially offset 0.
  for (size_t len = 0; len < full.size(); ++len) {
    Bytes in = Concat(Bytes{0xee}, ByteView(full).first(len));
    ByteReader r(in, 100);
    ASSERT_TRUE(r.U8("header").ok());
    const size_t off = r.offset();
    const size_t rem = r.remaining();
    ErrorCode code = ErrorCode::kOk;
    ASSERT_FALSE(read(r, &code)) << "prefix length " << len;
    EXPECT_EQ(code, ErrorCode::kTruncated) << "prefix length " << len;
    EXPECT_EQ(r.offset(), off);
    EXPECT_EQ(r.remaining(), rem);
  }
  Bytes in = Concat(Bytes{0xee}, full);
  ByteReader r(in);
  ASSERT_TRUE(r.U8("header").ok());
  ErrorCode code = ErrorCode::kOk;
  EXPECT_TRUE(read(r, &code)) << ErrorCodeName(code);
  EXPECT_TRUE(r.empty());
}

template <typename R>
bool Check(const R& result, ErrorCode* code) {
  if (result.ok()) return true;
  *code = result.error().code();
  return false;
}

TEST(ByteReader, IntegersBigAndLittleEndian) {
  const Bytes in = Hex("0102030405060708" "0102030405060708" "0102030405060708");
  ByteReader r(in);
  EXPECT_EQ(*r.U8("a"), 0x01);
  EXPECT_EQ(*r.U16BE("b"), 0x0203);
  EXPECT_EQ(*r.U32BE("c"), 0x04050607u);
  EXPECT_EQ(*r.U8("d"), 0x08);
  EXPECT_EQ(*r.U64BE("e"), 0x0102030405060708ull);
  EXPECT_EQ(*r.U16LE("f"), 0x0201);
  EXPECT_EQ(*r.U32LE("g"), 0x06050403u);
  EXPECT_EQ(*r.U16LE("h"), 0x0807);
  EXPECT_TRUE(r.empty());
  ByteReader r2(in);
  EXPECT_EQ(*r2.U64LE("i"), 0x0807060504030201ull);
  EXPECT_EQ(r2.offset(), 8u);
}

TEST(ByteReader, EveryReaderMethodTruncatesWithoutMoving) {
  const Bytes eight = Hex("0102030405060708");
  ExpectTruncationLeavesCursor(Hex("01"), [](ByteReader& r, ErrorCode* c) { return Check(r.U8("f"), c); }, "U8");
  ExpectTruncationLeavesCursor(Hex("0102"), [](ByteReader& r, ErrorCode* c) { return Check(r.U16BE("f"), c); }, "U16BE");
  ExpectTruncationLeavesCursor(Hex("01020304"), [](ByteReader& r, ErrorCode* c) { return Check(r.U32BE("f"), c); },
                               "U32BE");
  ExpectTruncationLeavesCursor(eight, [](ByteReader& r, ErrorCode* c) { return Check(r.U64BE("f"), c); }, "U64BE");
  ExpectTruncationLeavesCursor(Hex("0102"), [](ByteReader& r, ErrorCode* c) { return Check(r.U16LE("f"), c); }, "U16LE");
  ExpectTruncationLeavesCursor(Hex("01020304"), [](ByteReader& r, ErrorCode* c) { return Check(r.U32LE("f"), c); },
                               "U32LE");
  ExpectTruncationLeavesCursor(eight, [](ByteReader& r, ErrorCode* c) { return Check(r.U64LE("f"), c); }, "U64LE");
  ExpectTruncationLeavesCursor(eight, [](ByteReader& r, ErrorCode* c) { return Check(r.Bytes(8, "f"), c); }, "Bytes");
  ExpectTruncationLeavesCursor(eight, [](ByteReader& r, ErrorCode* c) { return Check(r.Skip(8, "f"), c); }, "Skip");
  ExpectTruncationLeavesCursor(eight, [](ByteReader& r, ErrorCode* c) { return Check(r.Child(8, "f"), c); }, "Child");
  // QUIC varints of each length (the 2-bit prefix announces 1, 2, 4 or 8 bytes).
  for (const char* v : {"25", "7bbd", "9d7f3e7d", "c2197c5eff14e88c"}) {
    ExpectTruncationLeavesCursor(Hex(v), [](ByteReader& r, ErrorCode* c) { return Check(r.QuicVarint("f"), c); },
                                 std::string("QuicVarint ") + v);
  }
  // VarintPrefixed: truncated inside the length, and inside the body.
  ExpectTruncationLeavesCursor(Hex("4005" "0102030405"),
                               [](ByteReader& r, ErrorCode* c) { return Check(r.VarintPrefixed(100, "f"), c); },
                               "VarintPrefixed");
}

TEST(ByteReader, TruncationMessageNamesFieldAndAbsoluteOffset) {
  const Bytes in = Hex("0102");
  ByteReader r(in, 40);
  ASSERT_TRUE(r.U8("first").ok());
  auto v = r.U32BE("length_field");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kTruncated);
  EXPECT_NE(v.error().message().find("length_field"), std::string::npos) << v.error().message();
  EXPECT_NE(v.error().message().find("41"), std::string::npos) << v.error().message();
}

TEST(ByteReader, BytesRestSkipAndZeroLengthReads) {
  const Bytes in = Hex("aabbccddeeff");
  ByteReader r(in);
  auto b = r.Bytes(0, "empty");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
  EXPECT_EQ(r.offset(), 0u);
  auto two = r.Bytes(2, "two");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(HexEncode(*two), "aabb");
  ASSERT_TRUE(r.Skip(1, "skip").ok());
  EXPECT_EQ(HexEncode(r.rest()), "ddeeff");
  EXPECT_EQ(r.remaining(), 3u);  // rest() does not consume
  auto too_many = r.Skip(4, "skip");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code(), ErrorCode::kTruncated);
  EXPECT_EQ(HexEncode(r.TakeRest()), "ddeeff");
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.TakeRest().empty());
  EXPECT_TRUE(r.ExpectEnd("msg").ok());
  auto past_end = r.U8("x");
  ASSERT_FALSE(past_end.ok());
  EXPECT_EQ(past_end.error().code(), ErrorCode::kTruncated);
  // A huge n must not overflow the bounds check.
  ByteReader r2(in);
  auto huge = r2.Bytes(~size_t{0}, "huge");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code(), ErrorCode::kTruncated);
  EXPECT_EQ(r2.offset(), 0u);
}

TEST(ByteReader, ExpectEndReportsTrailingData) {
  const Bytes in = Hex("0102");
  ByteReader r(in);
  ASSERT_TRUE(r.U8("a").ok());
  Status st = r.ExpectEnd("record");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kTrailingData);
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(ByteReader, ChildIsBoundedAndReportsAbsoluteOffsets) {
  const Bytes in = Hex("00" "01020304" "ff");
  ByteReader r(in, 1000);
  ASSERT_TRUE(r.U8("lead").ok());
  auto child = r.Child(4, "body");
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(r.offset(), 1005u);  // parent moved past the child
  EXPECT_EQ(child->offset(), 1001u);
  EXPECT_EQ(*child->U16BE("x"), 0x0102);
  auto over = child->U32BE("y");  // 2 bytes left in the child though the parent has 3
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kTruncated);
  EXPECT_NE(over.error().message().find("1003"), std::string::npos) << over.error().message();
  EXPECT_EQ(*child->U16BE("y"), 0x0304);
  EXPECT_TRUE(child->ExpectEnd("body").ok());
  EXPECT_EQ(*r.U8("tail"), 0xff);
}

TEST(QuicVarint, Rfc9000AppendixA1Examples) {
  struct Case {
    const char* hex;
    uint64_t value;
  };
  const Case cases[] = {
      {"c2197c5eff14e88c", 151288809941952652ull},
      {"9d7f3e7d", 494878333ull},
      {"7bbd", 15293ull},
      {"25", 37ull},
      {"4025", 37ull},  // the same value in two bytes: non-minimal, accepted as RFC 9000 permits
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    const Bytes in = Hex(c.hex);
    ByteReader r(in);
    auto v = r.QuicVarint("v");
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    EXPECT_EQ(*v, c.value);
    EXPECT_TRUE(r.empty());
  }
  // The writer produces the minimal encodings of the same values.
  for (const Case& c : cases) {
    if (std::string(c.hex) == "4025") continue;
    ByteWriter w;
    ASSERT_TRUE(w.QuicVarint(c.value).ok());
    EXPECT_EQ(HexEncode(w.bytes()), c.hex);
  }
}

TEST(QuicVarint, BoundariesRoundTrip) {
  const uint64_t values[] = {0, 63, 64, 16383, 16384, (1ull << 30) - 1, 1ull << 30, (1ull << 62) - 1};
  const size_t sizes[] = {1, 1, 2, 2, 4, 4, 8, 8};
  for (size_t i = 0; i < std::size(values); ++i) {
    SCOPED_TRACE(values[i]);
    EXPECT_EQ(QuicVarintSize(values[i]), sizes[i]);
    ByteWriter w;
    ASSERT_TRUE(w.QuicVarint(values[i]).ok());
    EXPECT_EQ(w.size(), sizes[i]);
    ByteReader r(w.bytes());
    auto v = r.QuicVarint("v");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, values[i]);
    EXPECT_TRUE(r.empty());
  }
  EXPECT_EQ(QuicVarintSize(1ull << 62), 0u);
  EXPECT_EQ(QuicVarintSize(~uint64_t{0}), 0u);
  ByteWriter w;
  Status st = w.QuicVarint(1ull << 62);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.size(), 0u);  // nothing half-written
}

TEST(QuicVarint, PrefixedLengthCap) {
  // Length 5 with cap 4: kLengthTooLarge, cursor unchanged, even though the body is present.
  const Bytes in = Hex("05" "0102030405");
  ByteReader r(in, 10);
  auto v = r.VarintPrefixed(4, "field");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kLengthTooLarge);
  EXPECT_EQ(r.offset(), 10u);
  EXPECT_EQ(r.remaining(), in.size());
  // Exactly at the cap: fine.
  auto ok = r.VarintPrefixed(5, "field");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(HexEncode(*ok), "0102030405");
  EXPECT_TRUE(r.empty());

  // A lying 8-byte length (2^62 - 1) with no body: over a small cap it is kLengthTooLarge before any
  // body check; under an unlimited cap it is kTruncated. Either way the cursor does not move.
  const Bytes liar = Hex("ffffffffffffffff" "00");
  ByteReader r2(liar);
  auto big = r2.VarintPrefixed(1 << 20, "field");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), ErrorCode::kLengthTooLarge);
  EXPECT_EQ(r2.offset(), 0u);
  auto trunc = r2.VarintPrefixed(~size_t{0}, "field");
  ASSERT_FALSE(trunc.ok());
  EXPECT_EQ(trunc.error().code(), ErrorCode::kTruncated);
  EXPECT_EQ(r2.offset(), 0u);

  // Non-minimal length encodings are accepted like any varint.
  const Bytes nonmin = Hex("4002" "abcd");
  ByteReader r3(nonmin);
  auto nm = r3.VarintPrefixed(2, "field");
  ASSERT_TRUE(nm.ok());
  EXPECT_EQ(HexEncode(*nm), "abcd");
}

TEST(ByteWriter, FixedWidthAndPrefixedRoundTrip) {
  ByteWriter w;
  w.U8(0x01);
  w.U16BE(0x0203);
  w.U32BE(0x04050607);
  w.U64BE(0x08090a0b0c0d0e0full);
  w.U16LE(0x0201);
  w.U32LE(0x06050403);
  w.U64LE(0x0e0d0c0b0a090807ull);
  EXPECT_EQ(HexEncode(w.bytes()),
            "01" "0203" "04050607" "08090a0b0c0d0e0f" "0102" "03040506" "0708090a0b0c0d0e");
  const Bytes body(300, 0x5a);
  ByteWriter p;
  ASSERT_TRUE(p.VarintPrefixed(body).ok());
  p.Bytes(std::string_view("tail"));
  EXPECT_EQ(p.size(), 2 + 300 + 4u);
  const Bytes out = p.Take();
  ByteReader r(out);
  auto b = r.VarintPrefixed(300, "body");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ToBytes(*b), body);
  EXPECT_EQ(AsChars(r.TakeRest()), "tail");

  uint8_t buf[8];
  StoreU64BE(buf, 0x0102030405060708ull);
  EXPECT_EQ(HexEncode(ByteView(buf, 8)), "0102030405060708");
  StoreU16BE(buf, 0xabcd);
  EXPECT_EQ(HexEncode(ByteView(buf, 2)), "abcd");
}

}  // namespace
}  // namespace cmln
