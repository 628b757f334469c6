// Fuzzes the incremental BHTTP response decoder (ResponseStreamDecoder) against the whole-message decoder.
// The first input byte picks the fragment size (1..256); the rest is the message, pushed in fragments of
// that size. Both decoders must agree: the same success, the same head, content and trailers, and on
// failure the same ErrorCode (for a framing indicator of 3 in any varint encoding; anything else the
// stream decoder refuses).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/byte_reader.h"
#include "seal/bhttp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln::seal::bhttp;
  if (size < 1) return 0;
  const size_t step = static_cast<size_t>(data[0]) + 1;
  const cmln::ByteView message(data + 1, size - 1);

  DecodeOptions options;
  options.max_content_size = 4096;  // small caps so the fuzzer reaches them
  options.max_field_section_size = 256;
  options.max_fields = 16;
  options.max_informational_responses = 2;

  ResponseStreamDecoder stream(options);
  cmln::Bytes content;
  cmln::Result<ResponseStreamDecoder::Events> last = ResponseStreamDecoder::Events{};
  for (size_t i = 0; i < message.size() && last.ok(); i += step) {
    last = stream.Push(message.subspan(i, std::min(step, message.size() - i)));
    if (last.ok()) cmln::Append(content, last->content);
  }
  if (last.ok()) last = stream.Finish();

  // Decode the framing indicator rather than compare the first byte: QUIC varints may be non-minimal
  // (0x40 0x03 is also 3), and the decoders rightly accept that.
  cmln::ByteReader framing_reader(message);
  auto framing = framing_reader.QuicVarint("framing indicator");
  const bool indeterminate_response = framing.ok() && *framing == 3;
  auto whole = DecodeResponse(message, options);
  if (!indeterminate_response) {
    if (last.ok()) std::abort();  // only framing indicator 3 is a stream
    return 0;
  }
  if (whole.ok() != last.ok()) std::abort();
  if (whole.ok()) {
    Response got = stream.head();
    got.content = content;
    got.trailers = stream.trailers();
    if (!(got == *whole)) std::abort();
    if (content.size() != stream.content_size()) std::abort();
  } else if (whole.error().code() != last.error().code()) {
    std::abort();
  }
  return 0;
}
