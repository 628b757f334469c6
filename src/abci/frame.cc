// Grammar in frame.h.
#include "abci/frame.h"

#include "tendermint/abci/types.pb.h"

namespace cmln::abci {

namespace {
constexpr uint8_t kContinuationBit = 0x80;
constexpr uint8_t kGroupMask = 0x7f;
constexpr unsigned kGroupBits = 7;

void AppendMessageFrame(const google::protobuf::MessageLite& m, Bytes& out) {
  const size_t n = m.ByteSizeLong();
  WriteUvarint(n, out);
  const size_t at = out.size();
  out.resize(at + n);
  m.SerializeWithCachedSizesToArray(out.data() + at);
}
}  // namespace

Result<uint64_t> ReadUvarint(ByteReader& r, std::string_view field) {
  ByteReader probe = r;  // advance `r` only once the whole varint is read
  uint64_t v = 0;
  for (size_t i = 0; i < kMaxUvarintBytes; ++i) {
    const size_t at = probe.offset();
    CMLN_ASSIGN_OR_RETURN(uint8_t b, probe.U8(field));
    const uint64_t group = b & kGroupMask;
    if (i == kMaxUvarintBytes - 1 && group > 1) {
      return Error(ErrorCode::kMalformed, std::string(field) + ": varint overflows 64 bits at offset " + std::to_string(at));
    }
    v |= group << (kGroupBits * i);
    if ((b & kContinuationBit) == 0) {
      r = probe;
      return v;
    }
  }
  return Error(ErrorCode::kMalformed, std::string(field) + ": varint longer than 10 bytes at offset " +
                                          std::to_string(r.offset()));
}

void WriteUvarint(uint64_t v, Bytes& out) {
  while (v >= kContinuationBit) {
    out.push_back(static_cast<uint8_t>((v & kGroupMask) | kContinuationBit));
    v >>= kGroupBits;
  }
  out.push_back(static_cast<uint8_t>(v));
}

Result<FrameSplit> SplitFrame(ByteView buffered, size_t max_frame) {
  ByteReader r(buffered);
  auto len = ReadUvarint(r, "frame length");
  if (!len.ok()) {
    if (len.error().code() == ErrorCode::kTruncated) return FrameSplit{};
    return len.error();
  }
  if (*len > max_frame) {
    return Error(ErrorCode::kLengthTooLarge,
                 "frame length " + std::to_string(*len) + " exceeds the cap " + std::to_string(max_frame));
  }
  if (r.remaining() < *len) return FrameSplit{};
  FrameSplit out;
  const size_t header = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView payload, r.Bytes(static_cast<size_t>(*len), "frame payload"));
  out.payload = payload;
  out.consumed = header + payload.size();
  return out;
}

Status ParseRequest(ByteView payload, tendermint::abci::Request* out) {
  if (payload.size() > static_cast<size_t>(INT32_MAX) ||
      !out->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Error(ErrorCode::kMalformed, "frame payload is not a tendermint.abci.Request");
  }
  if (out->value_case() == tendermint::abci::Request::VALUE_NOT_SET) {
    return Error(ErrorCode::kMalformed, "request names no method");
  }
  return OkStatus();
}

void AppendResponseFrame(const tendermint::abci::Response& response, Bytes& out) { AppendMessageFrame(response, out); }
void AppendRequestFrame(const tendermint::abci::Request& request, Bytes& out) { AppendMessageFrame(request, out); }

}  // namespace cmln::abci
