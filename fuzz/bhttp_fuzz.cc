// Fuzzes the BHTTP decoders (RFC 9292) with arbitrary bytes, as a request and as a response. Whatever
// decodes must encode (the encoder accepts everything the decoder does), and the encoding must decode
// to an equal message: decode(encode(decode(x))) == decode(x).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "seal/bhttp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln::seal::bhttp;
  const cmln::ByteView input(data, size);

  auto request = DecodeRequest(input);
  if (request.ok()) {
    auto encoded = EncodeRequest(*request);
    if (!encoded.ok()) std::abort();
    auto again = DecodeRequest(*encoded);
    if (!again.ok() || !(*again == *request)) std::abort();
  }

  auto response = DecodeResponse(input);
  if (response.ok()) {
    auto encoded = EncodeResponse(*response);
    if (!encoded.ok()) std::abort();
    auto again = DecodeResponse(*encoded);
    if (!again.ok() || !(*again == *response)) std::abort();
  }
  // A message is a request or a response, never both.
  if (request.ok() && response.ok()) std::abort();
  return 0;
}
