// Binary HTTP messages (RFC 9292): the plaintext inside OHTTP and chunked OHTTP.
//
// Decoding accepts both framings (known-length 0/1 and indeterminate-length 2/3), the truncation of
// empty trailing sections that RFC 9292 sections 3.1, 3.2 and 3.8 allow, and zero padding. It rejects,
// with a precise ErrorCode:
//   kTruncated       the input ends inside a section (anywhere truncation is not allowed);
//   kMalformed       a framing indicator other than 0..3 or of the other message kind, non-zero padding,
//                    a status code outside 100..199 (informational) / 200..599 (final), a field name that
//                    is empty, uppercase or not an HTTP token (pseudo-fields included), a field value with
//                    NUL/CR/LF or leading/trailing whitespace (RFC 9113 section 8.2.1), a method that is
//                    not a token, or scheme/authority/path bytes outside 0x21..0x7e;
//   kLengthTooLarge  a length or count above the DecodeOptions caps (checked before allocating).
// Encoding produces the known-length form with minimal varints and no padding; it refuses
// (kInvalidArgument) any message decoding would reject, so decode(encode(m)) == m for every m that
// encodes. The indeterminate-length writer functions let a gateway emit a response while it is being
// produced (for example an SSE stream inside chunked OHTTP).
//
// Field names are kept as bytes (never lowercased silently): uppercase names are invalid in BHTTP
// (RFC 9292 section 3.6 defers to RFC 9113, which forbids them).
//
// Thread safety: every function is pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::seal::bhttp {

// Media type of a binary HTTP message.
inline constexpr std::string_view kMediaType = "message/bhttp";

struct Field {
  std::string name;  // lowercase HTTP token
  std::string value;
  bool operator==(const Field&) const = default;
};
using Fields = std::vector<Field>;

struct Request {
  std::string method;  // e.g. "POST"
  std::string scheme;  // e.g. "https"
  std::string authority;  // may be empty (RFC 9292 section 3.4)
  std::string path;    // path and query, e.g. "/v1/chat/completions"
  Fields headers;
  Bytes content;
  Fields trailers;
  bool operator==(const Request&) const = default;
};

// An informational (1xx) response that precedes the final one.
struct InformationalResponse {
  uint16_t status = 100;  // 100..199
  Fields headers;
  bool operator==(const InformationalResponse&) const = default;
};

struct Response {
  std::vector<InformationalResponse> informational;
  uint16_t status = 200;  // 200..599
  Fields headers;
  Bytes content;
  Fields trailers;
  bool operator==(const Response&) const = default;
};

// Caps on decoded messages. Every cap is checked before the bytes it covers are copied.
struct DecodeOptions {
  // Bytes of one field section (known-length: its length prefix; indeterminate-length: the encoded
  // field lines), and also the cap on each of method, scheme, authority and path.
  size_t max_field_section_size = 64 * 1024;
  // Field lines in the whole message (every header, informational header and trailer section together).
  size_t max_fields = 512;
  // Bytes of content (known-length: the length prefix; indeterminate-length: the sum of the chunks).
  size_t max_content_size = 16 * 1024 * 1024;
  // Informational (1xx) responses before the final one.
  size_t max_informational_responses = 8;
};

inline DecodeOptions DefaultDecodeOptions() { return DecodeOptions{}; }

// Known-length encoding (framing indicator 0). kInvalidArgument if any field decoding would reject.
Result<Bytes> EncodeRequest(const Request& request);
// Known-length encoding (framing indicator 1). kInvalidArgument if any field decoding would reject.
Result<Bytes> EncodeResponse(const Response& response);

// Decodes a whole request (framing indicator 0 or 2). Errors as listed at the top of this file;
// kMalformed also for a response framing indicator (1 or 3).
Result<Request> DecodeRequest(ByteView message, const DecodeOptions& options = DefaultDecodeOptions());
// Decodes a whole response (framing indicator 1 or 3); kMalformed for a request framing indicator.
Result<Response> DecodeResponse(ByteView message, const DecodeOptions& options = DefaultDecodeOptions());

// Indeterminate-length response writer (framing indicator 3), for responses produced incrementally.
// The concatenation Head || ContentChunk(c1) || ... || ContentChunk(cn) || Tail is one valid message.
// Head: framing indicator, informational responses, status and header section of `head` (its content
// and trailers are ignored). kInvalidArgument for invalid statuses or fields.
Result<Bytes> EncodeIndeterminateResponseHead(const Response& head);
// One content chunk; an empty `content` yields no bytes (a zero length would end the content).
Result<Bytes> EncodeIndeterminateContentChunk(ByteView content);
// Content terminator and the trailer section.
Result<Bytes> EncodeIndeterminateResponseTail(const Fields& trailers);

// Incremental decoder of an indeterminate-length response (framing indicator 3) read from the network
// in fragments of any size, e.g. the plaintext chunks of a chunked OHTTP response carrying an SSE
// stream. It hands out the head (informational responses, status, header section) once complete, the
// content bytes as soon as they arrive (a content chunk may be delivered in several pieces), and the
// trailer section once complete. Only what is not yet a complete element is buffered (at most one
// field line or varint), so memory stays bounded by DecodeOptions whatever the stream length.
//
// It accepts exactly what DecodeResponse accepts for framing indicator 3, with the same ErrorCodes and
// caps: when the concatenation of every fragment is `m`, Push(...)+Finish() succeed iff
// DecodeResponse(m) does, with equal head, concatenated content and trailers. A framing indicator other
// than 3 is kMalformed. Errors are found as soon as the bytes that decide them arrive; the decoder is
// sticky: after an error every later call returns it. Finish() (end of input) is kTruncated unless the
// input ended where RFC 9292 allows truncation (after the final status, the header section, the
// content terminator, the trailer section or padding).
//
// Thread safety: none; one decoder per stream.
class ResponseStreamDecoder {
 public:
  explicit ResponseStreamDecoder(const DecodeOptions& options = DefaultDecodeOptions());

  // What one Push completed.
  struct Events {
    bool head_completed = false;      // the head became available in this call
    Bytes content;                    // content bytes that arrived in this call (possibly empty)
    bool trailers_completed = false;  // the trailer section ended in this call
  };
  Result<Events> Push(ByteView fragment);
  // End of input. On success the message is complete: head_complete() holds and trailers() is final.
  // Returns what the end completed (a head or trailers the end of input makes empty). Push or Finish
  // after a successful Finish is kInvalidArgument.
  Result<Events> Finish();

  bool head_complete() const { return state_ > State::kHeaderSection; }
  bool trailers_complete() const { return state_ >= State::kPadding; }
  // Informational responses, status and headers; content and trailers stay empty. Meaningful once
  // head_complete().
  const Response& head() const { return head_; }
  const Fields& trailers() const { return trailers_; }
  // Content bytes delivered so far.
  size_t content_size() const { return content_size_; }

 private:
  enum class State {
    kFraming,
    kStatus,
    kInformationalSection,
    kHeaderSection,
    kContent,
    kTrailerSection,
    kPadding,
  };
  Result<bool> Step(Events& events);
  Result<bool> StepFieldLine(Fields& out, std::string_view what, bool& section_done);
  Error Fail(Error e);

  DecodeOptions opts_;
  State state_ = State::kFraming;
  Bytes buffer_;
  size_t pos_ = 0;     // first unread byte of buffer_
  size_t offset_ = 0;  // absolute message offset of buffer_[pos_]
  Response head_;
  Fields trailers_;
  size_t field_count_ = 0;
  size_t section_start_ = 0;      // absolute offset where the current field section began
  bool section_started_ = false;  // some byte of the current section (or of the content) was read
  uint64_t chunk_remaining_ = 0;  // content bytes left in the current chunk
  size_t content_size_ = 0;
  bool finished_ = false;
  std::optional<Error> error_;
};

}  // namespace cmln::seal::bhttp
