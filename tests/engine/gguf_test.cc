// GGUF reader: well-formed files parse to the values written; malformed files (truncated, lying sizes
// and offsets, unknown types, oversized counts) are rejected with the precise error code.
#include "engine/gguf.h"

#include <gtest/gtest.h>

#include "engine/gguf_writer.h"

namespace cmln::engine {
namespace {

using testing::GgufWriter;

Bytes F32Bytes(size_t n) { return Bytes(n * 4, 0); }

GgufWriter Small() {
  GgufWriter w;
  w.KvString("general.architecture", "llama");
  w.KvU32("answer", 42);
  w.KvF32("pi", 3.25f);
  w.KvBool("flag", true);
  w.KvStrings("list", {"a", "bc", ""});
  w.KvI32s("ints", {1, -2, 3});
  w.Tensor("a", {8, 2}, TensorType::kF32, F32Bytes(16));
  w.Tensor("b", {64}, TensorType::kQ8_0, Bytes(68, 0));
  return w;
}

TEST(Gguf, ParsesWhatWasWritten) {
  const Bytes file = Small().Finish();
  auto f = GgufFile::Parse(file);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(*f->GetString("general.architecture"), "llama");
  EXPECT_EQ(*f->GetUInt("answer"), 42u);
  EXPECT_EQ(*f->GetFloat("pi"), 3.25);
  EXPECT_TRUE(*f->GetBool("flag"));
  EXPECT_EQ(**f->GetStringArray("list"), (std::vector<std::string>{"a", "bc", ""}));
  EXPECT_EQ(**f->GetIntArray("ints"), (std::vector<int64_t>{1, -2, 3}));
  ASSERT_EQ(f->tensors().size(), 2u);
  const GgufTensor* a = f->FindTensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dims, (std::vector<uint64_t>{8, 2}));
  EXPECT_EQ(a->byte_size, 64u);
  EXPECT_EQ(a->rows(), 2u);
  EXPECT_EQ(a->data.data(), file.data() + f->data_offset());
  const GgufTensor* b = f->FindTensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->byte_size, 68u);
  EXPECT_EQ(b->offset % 32, 0u);
}

TEST(Gguf, TypedGettersReportMissingAndMismatchedKeys) {
  const Bytes file = Small().Finish();
  auto f = GgufFile::Parse(file);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->GetUInt("nope").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(f->GetUInt("pi").error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(f->GetString("answer").error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(f->GetStringArray("ints").error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(f->GetIntArray("list").error().code(), ErrorCode::kMalformed);
}

TEST(Gguf, EveryTruncationIsRejected) {
  const Bytes file = Small().Finish();
  // Every proper prefix fails; prefixes that cut the header or tensor data say kTruncated.
  for (size_t n = 0; n < file.size(); ++n) {
    auto f = GgufFile::Parse(ByteView(file.data(), n));
    ASSERT_FALSE(f.ok()) << "prefix " << n;
    EXPECT_EQ(f.error().code(), ErrorCode::kTruncated) << "prefix " << n << ": " << f.error().ToString();
  }
}

TEST(Gguf, BadMagicIsMalformed) {
  GgufWriter w = Small();
  w.magic = 0x46554746;
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed);
}

TEST(Gguf, OtherVersionsAreUnsupported) {
  for (uint32_t v : {1u, 2u, 4u}) {
    GgufWriter w = Small();
    w.version = v;
    EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kUnsupported) << v;
  }
}

TEST(Gguf, UnknownValueTypeIsUnsupported) {
  GgufWriter w;
  w.KvRaw("x", {13, 0, 0, 0, 0});
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kUnsupported);
}

TEST(Gguf, NestedArrayIsUnsupported) {
  GgufWriter w;
  w.KvRaw("x", {9, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kUnsupported);
}

TEST(Gguf, BoolOtherThanZeroOrOneIsMalformed) {
  GgufWriter w;
  w.KvRaw("x", {7, 0, 0, 0, 2});
  auto f = GgufFile::Parse(w.Finish());
  EXPECT_EQ(f.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(f.error().message().find("offset"), std::string::npos) << f.error().message();
}

TEST(Gguf, HugeStringLengthIsCappedBeforeAllocating) {
  GgufWriter w;
  ByteWriter v;
  v.U32LE(8);
  v.U64LE(uint64_t{1} << 62);
  w.KvRaw("x", v.Take());
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kLengthTooLarge);
}

TEST(Gguf, HugeArrayCountIsCapped) {
  GgufWriter w;
  ByteWriter v;
  v.U32LE(9);
  v.U32LE(4);
  v.U64LE(uint64_t{1} << 40);
  w.KvRaw("x", v.Take());
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kLengthTooLarge);
}

TEST(Gguf, ArrayCountLargerThanTheFileIsTruncated) {
  GgufWriter w;
  ByteWriter v;
  v.U32LE(9);
  v.U32LE(4);
  v.U64LE(1000);  // under the cap, but 4000 bytes are not there
  v.U32LE(1);
  w.KvRaw("x", v.Take());
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kTruncated);
}

TEST(Gguf, HugeCountsAreCapped) {
  GgufWriter w;
  Bytes file = w.Finish();
  file[8 + 7] = 0x10;  // tensor_count = 2^60
  EXPECT_EQ(GgufFile::Parse(file).error().code(), ErrorCode::kLengthTooLarge);
  file = w.Finish();
  file[16 + 7] = 0x10;  // kv_count = 2^60
  EXPECT_EQ(GgufFile::Parse(file).error().code(), ErrorCode::kLengthTooLarge);
}

TEST(Gguf, DuplicateKeyIsMalformed) {
  GgufWriter w;
  w.KvU32("k", 1);
  w.KvU32("k", 2);
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed);
}

TEST(Gguf, DuplicateTensorIsMalformed) {
  GgufWriter w;
  w.Tensor("t", {4}, TensorType::kF32, F32Bytes(4));
  w.Tensor("t", {4}, TensorType::kF32, F32Bytes(4));
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed);
}

TEST(Gguf, UnknownTensorTypeIsUnsupported) {
  for (uint32_t type : {4u, 12u, 30u, 1000u}) {  // removed Q4_2, Q4_K, BF16, nonsense
    GgufWriter w;
    w.RawData().resize(1024);
    w.TensorRaw("t", {32}, type, 0);
    auto f = GgufFile::Parse(w.Finish());
    EXPECT_EQ(f.error().code(), ErrorCode::kUnsupported) << type;
  }
}

TEST(Gguf, BadDimensionsAreMalformed) {
  for (const std::vector<uint64_t>& dims : std::vector<std::vector<uint64_t>>{{}, {1, 1, 1, 1, 1}, {4, 0}}) {
    GgufWriter w;
    w.RawData().resize(64);
    w.TensorRaw("t", dims, 0, 0);
    EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed) << dims.size();
  }
}

TEST(Gguf, RowNotAWholeNumberOfBlocksIsMalformed) {
  GgufWriter w;
  w.RawData().resize(64);
  w.TensorRaw("t", {33}, static_cast<uint32_t>(TensorType::kQ8_0), 0);
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed);
}

TEST(Gguf, ElementCountOverflowIsCapped) {
  GgufWriter w;
  w.RawData().resize(64);
  w.TensorRaw("t", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0);
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kLengthTooLarge);
}

TEST(Gguf, MisalignedOffsetIsMalformed) {
  GgufWriter w;
  w.RawData().resize(64);
  w.TensorRaw("t", {4}, 0, 4);
  EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed);
}

TEST(Gguf, TensorDataPastTheEndIsTruncated) {
  {  // offset beyond the data section
    GgufWriter w;
    w.RawData().resize(64);
    w.TensorRaw("t", {4}, 0, 1u << 20);
    EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kTruncated);
  }
  {  // a size that lies: dims claim more bytes than the file holds
    GgufWriter w;
    w.RawData().resize(64);
    w.TensorRaw("t", {1024, 1024}, 0, 0);
    EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kTruncated);
  }
  {  // an offset + size that wraps around 2^64
    GgufWriter w;
    w.RawData().resize(64);
    w.TensorRaw("t", {16}, 0, ~uint64_t{31});
    EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kTruncated);
  }
}

TEST(Gguf, AlignmentMustBeAPowerOfTwo) {
  for (uint32_t a : {0u, 3u, 48u, 1u << 20}) {
    GgufWriter w;
    w.KvU32("general.alignment", a);
    EXPECT_EQ(GgufFile::Parse(w.Finish()).error().code(), ErrorCode::kMalformed) << a;
  }
}

TEST(Gguf, OpenReportsMissingFilesAsIoError) {
  EXPECT_EQ(GgufFile::Open("/nonexistent/model.gguf").error().code(), ErrorCode::kIoError);
  EXPECT_EQ(GgufFile::Open("/").error().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace cmln::engine
