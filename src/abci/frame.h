// ABCI socket framing (CometBFT v0.38 abci/types/messages.go: libs/protoio delimited messages).
//
//   stream  = *frame
//   frame   = length payload
//   length  = uvarint            ; protobuf base-128 varint, least significant group first, at most 10 bytes
//   payload = length bytes       ; a serialized tendermint.abci.Request (client -> app) or Response (app -> client)
//
// Lengths above kMaxFrameBytes are refused before anything is allocated (kLengthTooLarge); a varint longer
// than 10 bytes or overflowing 64 bits is kMalformed. A frame is the unit of refusal: after a refused frame
// the stream cannot be resynchronized, so the server answers with a ResponseException and closes the
// connection. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>

#include "common/byte_reader.h"
#include "common/bytes.h"
#include "common/status.h"

namespace tendermint::abci {
class Request;
class Response;
}  // namespace tendermint::abci

namespace cmln::abci {

// A FinalizeBlock request carries the whole block (CometBFT's default max block size is 21 MiB); 64 MiB
// leaves room for larger consensus params while bounding what one frame can make the app allocate.
inline constexpr size_t kMaxFrameBytes = 64u << 20;
inline constexpr size_t kMaxUvarintBytes = 10;

// Reads one uvarint. kTruncated if the input ends inside it (the cursor does not move), kMalformed if it
// runs past 10 bytes or past 2^64-1.
Result<uint64_t> ReadUvarint(ByteReader& r, std::string_view field);
void WriteUvarint(uint64_t v, Bytes& out);

// The outcome of looking for one frame at the start of buffered stream bytes.
struct FrameSplit {
  std::optional<ByteView> payload;  // set when a whole frame is buffered
  size_t consumed = 0;              // bytes of the stream the frame took (length + payload)
};

// Finds the first frame in `buffered`: payload unset (and consumed 0) if more bytes are needed; an error
// (kLengthTooLarge / kMalformed) if the stream is unusable. `max_frame` caps the payload length.
Result<FrameSplit> SplitFrame(ByteView buffered, size_t max_frame = kMaxFrameBytes);

// Decodes a Request payload: kMalformed if it is not a tendermint.abci.Request or names no request.
Status ParseRequest(ByteView payload, tendermint::abci::Request* out);

// Appends the frame of `response` (length + serialized bytes) to `out`.
void AppendResponseFrame(const tendermint::abci::Response& response, Bytes& out);
// The same for a request (tests and the e2e client side).
void AppendRequestFrame(const tendermint::abci::Request& request, Bytes& out);

}  // namespace cmln::abci
