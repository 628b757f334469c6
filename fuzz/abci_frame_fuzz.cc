// Fuzzes the ABCI socket framing (src/abci/frame.h) the way the server consumes a stream: split frames
// off the buffered bytes, decode each as a tendermint.abci.Request, and for every decoded request check
// that re-framing its serialization splits back to the same payload. Any crash, sanitizer report or
// failed check is a bug; refusals (kLengthTooLarge, kMalformed) are expected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "abci/frame.h"
#include "tendermint/abci/types.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln;
  // A small cap so oversized-length refusals are reached as well as whole frames.
  constexpr size_t kFuzzMaxFrame = 1 << 16;
  ByteView stream(data, size);
  size_t at = 0;
  while (at < stream.size()) {
    auto split = abci::SplitFrame(stream.subspan(at), kFuzzMaxFrame);
    if (!split.ok()) break;         // the server answers with an exception and closes
    if (!split->payload) break;     // needs more bytes
    if (split->consumed == 0 || split->consumed > stream.size() - at) std::abort();
    at += split->consumed;
    tendermint::abci::Request req;
    if (!abci::ParseRequest(*split->payload, &req).ok()) break;
    Bytes framed;
    abci::AppendRequestFrame(req, framed);
    auto again = abci::SplitFrame(framed, abci::kMaxFrameBytes);
    if (!again.ok() || !again->payload || again->consumed != framed.size()) std::abort();
    tendermint::abci::Request back;
    if (!abci::ParseRequest(*again->payload, &back).ok()) std::abort();
    if (back.value_case() != req.value_case()) std::abort();
  }
  return 0;
}
