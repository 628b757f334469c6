// Binary HTTP (RFC 9292). All integers are QUIC varints (RFC 9000 section 16).
//
//   Message            = Framing Indicator (i) [Informational*] Control Data
//                        [Header Section [Content [Trailer Section [Padding]]]]
//   Framing Indicator  = 0 known-length request | 1 known-length response
//                      | 2 indeterminate-length request | 3 indeterminate-length response
//   Request Control    = Method Len (i) Method  Scheme Len (i) Scheme  Authority Len (i) Authority
//                        Path Len (i) Path
//   Response Control   = Status (i) = 200..599
//   Informational      = Status (i) = 100..199, Header Section          (responses only)
//   Field Line         = Name Len (i) = 1.. Name  Value Len (i) Value
//   Known-length:      Field Section = Length (i) Field Line*  (the lines fill exactly Length bytes)
//                      Content       = Length (i) Bytes
//   Indeterminate:     Field Section = Field Line* 0
//                      Content       = (Chunk Len (i) = 1.. Chunk)* 0
//   Padding            = 0x00*
//
// Truncation (RFC 9292 sections 3.1, 3.2, 3.8): a message may end right after the control data, after
// the header section or after the content; the missing sections are empty. Anywhere else is kTruncated.
//
// ResponseStreamDecoder reads the indeterminate-length response grammar element by element (framing
// indicator, status, one field line, one chunk length, chunk bytes, padding) from a buffer of what has
// arrived. An element is parsed only when all its bytes are there; a parse that runs out of bytes is
// retried after the next Push, so every check runs on the same bytes, in the same order, as in the
// whole-message Decoder below and yields the same ErrorCode.
#include "seal/bhttp.h"

#include <algorithm>
#include <string_view>

#include "common/byte_reader.h"

namespace cmln::seal::bhttp {

namespace {

constexpr uint64_t kFramingKnownLengthRequest = 0;
constexpr uint64_t kFramingKnownLengthResponse = 1;
constexpr uint64_t kFramingIndeterminateRequest = 2;
constexpr uint64_t kFramingIndeterminateResponse = 3;

constexpr uint64_t kMinInformationalStatus = 100;
constexpr uint64_t kMaxInformationalStatus = 199;
constexpr uint64_t kMinFinalStatus = 200;
constexpr uint64_t kMaxFinalStatus = 599;

// Terminates an indeterminate-length field section or content.
constexpr uint64_t kTerminator = 0;

// RFC 9110 section 5.6.2 tchar.
bool IsTchar(uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// A field name: a non-empty token without uppercase letters (RFC 9113 section 8.2.1). A leading ':'
// (pseudo-field) is not a tchar, so pseudo-fields are refused too.
bool ValidFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    const auto c = static_cast<uint8_t>(ch);
    if (!IsTchar(c) || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

// A field value: no NUL, CR or LF, and no leading or trailing SP/HTAB (RFC 9113 section 8.2.1).
bool ValidFieldValue(std::string_view value) {
  for (char ch : value) {
    if (ch == '\0' || ch == '\r' || ch == '\n') return false;
  }
  if (!value.empty()) {
    const char first = value.front();
    const char last = value.back();
    if (first == ' ' || first == '\t' || last == ' ' || last == '\t') return false;
  }
  return true;
}

bool ValidMethod(std::string_view method) {
  if (method.empty()) return false;
  for (char ch : method) {
    if (!IsTchar(static_cast<uint8_t>(ch))) return false;
  }
  return true;
}

// Scheme, authority and path: visible ASCII only, so a request cannot be split when replayed over
// HTTP/1.1. Stricter than RFC 9292 requires.
bool ValidTargetPart(std::string_view part) {
  for (char ch : part) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

Error MalformedAt(std::string_view what, size_t offset) {
  return Error(ErrorCode::kMalformed, "bhttp: " + std::string(what) + " at offset " + std::to_string(offset));
}

Error TooLarge(std::string_view what, uint64_t value, size_t cap, size_t offset) {
  return Error(ErrorCode::kLengthTooLarge, "bhttp: " + std::string(what) + " " + std::to_string(value) +
                                               " at offset " + std::to_string(offset) + " exceeds limit " +
                                               std::to_string(cap));
}

// ---------------------------------------------------------------------------------------------
// Decoding.

class Decoder {
 public:
  Decoder(ByteView message, const DecodeOptions& options) : r_(message), opts_(options) {}

  bool AtEnd() const { return r_.empty(); }

  // Reads the framing indicator; returns true for a request, false for a response.
  Result<bool> ReadFraming() {
    const size_t at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(uint64_t framing, r_.QuicVarint("framing indicator"));
    switch (framing) {
      case kFramingKnownLengthRequest: indeterminate_ = false; return true;
      case kFramingKnownLengthResponse: indeterminate_ = false; return false;
      case kFramingIndeterminateRequest: indeterminate_ = true; return true;
      case kFramingIndeterminateResponse: indeterminate_ = true; return false;
      default: return MalformedAt("framing indicator " + std::to_string(framing) + " is not 0..3", at);
    }
  }

  Result<std::string> ReadControlString(std::string_view field) {
    CMLN_ASSIGN_OR_RETURN(ByteView v, r_.VarintPrefixed(opts_.max_field_section_size, field));
    return std::string(AsChars(v));
  }

  Status ReadRequestControl(Request& req) {
    size_t at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(req.method, ReadControlString("method"));
    if (!ValidMethod(req.method)) return MalformedAt("method is not a token", at);
    at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(req.scheme, ReadControlString("scheme"));
    if (!ValidTargetPart(req.scheme)) return MalformedAt("scheme has a byte outside 0x21..0x7e", at);
    at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(req.authority, ReadControlString("authority"));
    if (!ValidTargetPart(req.authority)) return MalformedAt("authority has a byte outside 0x21..0x7e", at);
    at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(req.path, ReadControlString("path"));
    if (!ValidTargetPart(req.path)) return MalformedAt("path has a byte outside 0x21..0x7e", at);
    return OkStatus();
  }

  Result<uint64_t> ReadStatus() { return r_.QuicVarint("status code"); }
  size_t offset() const { return r_.offset(); }

  Status ReadFieldSection(Fields& out, std::string_view what) {
    return indeterminate_ ? ReadIndeterminateFieldSection(out, what) : ReadKnownLengthFieldSection(out, what);
  }

  Status ReadContent(Bytes& out) { return indeterminate_ ? ReadIndeterminateContent(out) : ReadKnownLengthContent(out); }

  // Whatever is left must be zero bytes.
  Status ReadPadding() {
    const size_t start = r_.offset();
    ByteView rest = r_.TakeRest();
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] != 0) return MalformedAt("non-zero padding byte", start + i);
    }
    return OkStatus();
  }

 private:
  Status CountField(size_t at) {
    if (++field_count_ > opts_.max_fields) return TooLarge("field line count", field_count_, opts_.max_fields, at);
    return OkStatus();
  }

  // One field line after its name length was read; validates and appends it.
  Status ReadFieldLine(ByteReader& r, uint64_t name_len, size_t line_start, Fields& out, std::string_view what) {
    if (name_len == 0) return MalformedAt(std::string(what) + ": empty field name", line_start);
    if (name_len > opts_.max_field_section_size) {
      return TooLarge(std::string(what) + ": field name length", name_len, opts_.max_field_section_size, line_start);
    }
    const size_t name_at = r.offset();
    CMLN_ASSIGN_OR_RETURN(ByteView name, r.Bytes(static_cast<size_t>(name_len), "field name"));
    const size_t value_at = r.offset();
    CMLN_ASSIGN_OR_RETURN(ByteView value, r.VarintPrefixed(opts_.max_field_section_size, "field value"));
    CMLN_TRY(CountField(line_start));
    if (!ValidFieldName(AsChars(name))) {
      return MalformedAt(std::string(what) + ": field name is not a lowercase token", name_at);
    }
    if (!ValidFieldValue(AsChars(value))) {
      return MalformedAt(std::string(what) + ": field value has NUL/CR/LF or surrounding whitespace", value_at);
    }
    out.push_back(Field{std::string(AsChars(name)), std::string(AsChars(value))});
    return OkStatus();
  }

  Status ReadKnownLengthFieldSection(Fields& out, std::string_view what) {
    const size_t at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(uint64_t len, r_.QuicVarint(what));
    if (len > opts_.max_field_section_size) {
      return TooLarge(std::string(what) + " length", len, opts_.max_field_section_size, at);
    }
    CMLN_ASSIGN_OR_RETURN(ByteReader section, r_.Child(static_cast<size_t>(len), what));
    while (!section.empty()) {
      const size_t line_start = section.offset();
      Status s = [&]() -> Status {
        CMLN_ASSIGN_OR_RETURN(uint64_t name_len, section.QuicVarint("field name length"));
        return ReadFieldLine(section, name_len, line_start, out, what);
      }();
      if (!s.ok()) {
        // The section itself was complete; a field line that runs past its end is a lie, not a truncation.
        if (s.error().code() == ErrorCode::kTruncated) {
          return MalformedAt(std::string(what) + ": field line overruns the section", line_start);
        }
        return s;
      }
    }
    return OkStatus();
  }

  Status ReadIndeterminateFieldSection(Fields& out, std::string_view what) {
    const size_t start = r_.offset();
    for (;;) {
      const size_t line_start = r_.offset();
      CMLN_ASSIGN_OR_RETURN(uint64_t name_len, r_.QuicVarint("field name length"));
      if (name_len == kTerminator) return OkStatus();
      CMLN_TRY(ReadFieldLine(r_, name_len, line_start, out, what));
      const size_t section_size = r_.offset() - start;
      if (section_size > opts_.max_field_section_size) {
        return TooLarge(std::string(what) + " size", section_size, opts_.max_field_section_size, start);
      }
    }
  }

  Status ReadKnownLengthContent(Bytes& out) {
    const size_t at = r_.offset();
    CMLN_ASSIGN_OR_RETURN(uint64_t len, r_.QuicVarint("content length"));
    if (len > opts_.max_content_size) return TooLarge("content length", len, opts_.max_content_size, at);
    CMLN_ASSIGN_OR_RETURN(ByteView content, r_.Bytes(static_cast<size_t>(len), "content"));
    out.assign(content.begin(), content.end());
    return OkStatus();
  }

  Status ReadIndeterminateContent(Bytes& out) {
    for (;;) {
      const size_t at = r_.offset();
      CMLN_ASSIGN_OR_RETURN(uint64_t len, r_.QuicVarint("content chunk length"));
      if (len == kTerminator) return OkStatus();
      if (len > opts_.max_content_size - out.size()) {
        return TooLarge("content size", out.size() + len, opts_.max_content_size, at);
      }
      CMLN_ASSIGN_OR_RETURN(ByteView chunk, r_.Bytes(static_cast<size_t>(len), "content chunk"));
      Append(out, chunk);
    }
  }

  ByteReader r_;
  const DecodeOptions& opts_;
  bool indeterminate_ = false;
  size_t field_count_ = 0;
};

// Header section, content, trailers and padding, each optional from the end (truncation).
Status ReadBody(Decoder& d, Fields& headers, Bytes& content, Fields& trailers) {
  if (d.AtEnd()) return OkStatus();
  CMLN_TRY(d.ReadFieldSection(headers, "header section"));
  if (d.AtEnd()) return OkStatus();
  CMLN_TRY(d.ReadContent(content));
  if (d.AtEnd()) return OkStatus();
  CMLN_TRY(d.ReadFieldSection(trailers, "trailer section"));
  return d.ReadPadding();
}

// ---------------------------------------------------------------------------------------------
// Encoding.

Status CheckFields(const Fields& fields, std::string_view what) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!ValidFieldName(fields[i].name)) {
      return Error(ErrorCode::kInvalidArgument,
                   "bhttp: " + std::string(what) + " field " + std::to_string(i) + ": name is not a lowercase token");
    }
    if (!ValidFieldValue(fields[i].value)) {
      return Error(ErrorCode::kInvalidArgument, "bhttp: " + std::string(what) + " field " + std::to_string(i) +
                                                    ": value has NUL/CR/LF or surrounding whitespace");
    }
  }
  return OkStatus();
}

Status WriteFieldLines(ByteWriter& w, const Fields& fields, std::string_view what) {
  CMLN_TRY(CheckFields(fields, what));
  for (const Field& f : fields) {
    CMLN_TRY(w.VarintPrefixed(AsBytes(f.name)));
    CMLN_TRY(w.VarintPrefixed(AsBytes(f.value)));
  }
  return OkStatus();
}

Status WriteKnownLengthFieldSection(ByteWriter& w, const Fields& fields, std::string_view what) {
  ByteWriter section;
  CMLN_TRY(WriteFieldLines(section, fields, what));
  return w.VarintPrefixed(section.bytes());
}

Status WriteIndeterminateFieldSection(ByteWriter& w, const Fields& fields, std::string_view what) {
  CMLN_TRY(WriteFieldLines(w, fields, what));
  return w.QuicVarint(kTerminator);
}

Status CheckInformationalStatus(uint64_t status) {
  if (status < kMinInformationalStatus || status > kMaxInformationalStatus) {
    return Error(ErrorCode::kInvalidArgument,
                 "bhttp: informational status " + std::to_string(status) + " is not 100..199");
  }
  return OkStatus();
}

Status CheckFinalStatus(uint64_t status) {
  if (status < kMinFinalStatus || status > kMaxFinalStatus) {
    return Error(ErrorCode::kInvalidArgument, "bhttp: final status " + std::to_string(status) + " is not 200..599");
  }
  return OkStatus();
}

}  // namespace

Result<Request> DecodeRequest(ByteView message, const DecodeOptions& options) {
  Decoder d(message, options);
  CMLN_ASSIGN_OR_RETURN(bool is_request, d.ReadFraming());
  if (!is_request) return MalformedAt("framing indicator of a response where a request was expected", 0);
  Request req;
  CMLN_TRY(d.ReadRequestControl(req));
  CMLN_TRY(ReadBody(d, req.headers, req.content, req.trailers));
  return req;
}

Result<Response> DecodeResponse(ByteView message, const DecodeOptions& options) {
  Decoder d(message, options);
  CMLN_ASSIGN_OR_RETURN(bool is_request, d.ReadFraming());
  if (is_request) return MalformedAt("framing indicator of a request where a response was expected", 0);
  Response resp;
  for (;;) {
    const size_t at = d.offset();
    CMLN_ASSIGN_OR_RETURN(uint64_t status, d.ReadStatus());
    if (status >= kMinInformationalStatus && status <= kMaxInformationalStatus) {
      if (resp.informational.size() >= options.max_informational_responses) {
        return TooLarge("informational response count", resp.informational.size() + 1,
                        options.max_informational_responses, at);
      }
      InformationalResponse info;
      info.status = static_cast<uint16_t>(status);
      CMLN_TRY(d.ReadFieldSection(info.headers, "informational header section"));
      resp.informational.push_back(std::move(info));
      continue;
    }
    if (status < kMinFinalStatus || status > kMaxFinalStatus) {
      return MalformedAt("status code " + std::to_string(status) + " is not 100..599", at);
    }
    resp.status = static_cast<uint16_t>(status);
    break;
  }
  CMLN_TRY(ReadBody(d, resp.headers, resp.content, resp.trailers));
  return resp;
}

Result<Bytes> EncodeRequest(const Request& request) {
  if (!ValidMethod(request.method)) return Error(ErrorCode::kInvalidArgument, "bhttp: method is not a token");
  if (!ValidTargetPart(request.scheme) || !ValidTargetPart(request.authority) || !ValidTargetPart(request.path)) {
    return Error(ErrorCode::kInvalidArgument, "bhttp: scheme, authority or path has a byte outside 0x21..0x7e");
  }
  ByteWriter w;
  CMLN_TRY(w.QuicVarint(kFramingKnownLengthRequest));
  CMLN_TRY(w.VarintPrefixed(AsBytes(request.method)));
  CMLN_TRY(w.VarintPrefixed(AsBytes(request.scheme)));
  CMLN_TRY(w.VarintPrefixed(AsBytes(request.authority)));
  CMLN_TRY(w.VarintPrefixed(AsBytes(request.path)));
  CMLN_TRY(WriteKnownLengthFieldSection(w, request.headers, "header"));
  CMLN_TRY(w.VarintPrefixed(request.content));
  CMLN_TRY(WriteKnownLengthFieldSection(w, request.trailers, "trailer"));
  return w.Take();
}

Result<Bytes> EncodeResponse(const Response& response) {
  ByteWriter w;
  CMLN_TRY(w.QuicVarint(kFramingKnownLengthResponse));
  for (const InformationalResponse& info : response.informational) {
    CMLN_TRY(CheckInformationalStatus(info.status));
    CMLN_TRY(w.QuicVarint(info.status));
    CMLN_TRY(WriteKnownLengthFieldSection(w, info.headers, "informational header"));
  }
  CMLN_TRY(CheckFinalStatus(response.status));
  CMLN_TRY(w.QuicVarint(response.status));
  CMLN_TRY(WriteKnownLengthFieldSection(w, response.headers, "header"));
  CMLN_TRY(w.VarintPrefixed(response.content));
  CMLN_TRY(WriteKnownLengthFieldSection(w, response.trailers, "trailer"));
  return w.Take();
}

Result<Bytes> EncodeIndeterminateResponseHead(const Response& head) {
  ByteWriter w;
  CMLN_TRY(w.QuicVarint(kFramingIndeterminateResponse));
  for (const InformationalResponse& info : head.informational) {
    CMLN_TRY(CheckInformationalStatus(info.status));
    CMLN_TRY(w.QuicVarint(info.status));
    CMLN_TRY(WriteIndeterminateFieldSection(w, info.headers, "informational header"));
  }
  CMLN_TRY(CheckFinalStatus(head.status));
  CMLN_TRY(w.QuicVarint(head.status));
  CMLN_TRY(WriteIndeterminateFieldSection(w, head.headers, "header"));
  return w.Take();
}

Result<Bytes> EncodeIndeterminateContentChunk(ByteView content) {
  ByteWriter w;
  if (!content.empty()) CMLN_TRY(w.VarintPrefixed(content));
  return w.Take();
}

Result<Bytes> EncodeIndeterminateResponseTail(const Fields& trailers) {
  ByteWriter w;
  CMLN_TRY(w.QuicVarint(kTerminator));
  CMLN_TRY(WriteIndeterminateFieldSection(w, trailers, "trailer"));
  return w.Take();
}

// ---------------------------------------------------------------------------------------------
// Incremental decoding of an indeterminate-length response.

ResponseStreamDecoder::ResponseStreamDecoder(const DecodeOptions& options) : opts_(options) {}

Error ResponseStreamDecoder::Fail(Error e) {
  error_ = e;
  return e;
}

Result<ResponseStreamDecoder::Events> ResponseStreamDecoder::Push(ByteView fragment) {
  if (error_) return *error_;
  if (finished_) return Fail(Error(ErrorCode::kInvalidArgument, "bhttp stream: Push after Finish"));
  // Drop consumed bytes once they dominate the buffer, so a long stream does not grow it.
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ >= 4096 && pos_ * 2 >= buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  Append(buffer_, fragment);
  Events events;
  for (;;) {
    Result<bool> progressed = Step(events);
    if (!progressed.ok()) return Fail(progressed.error());
    if (!*progressed) break;
  }
  return events;
}

Result<ResponseStreamDecoder::Events> ResponseStreamDecoder::Finish() {
  if (error_) return *error_;
  if (finished_) return Fail(Error(ErrorCode::kInvalidArgument, "bhttp stream: Finish called twice"));
  const bool unread = pos_ < buffer_.size();
  const bool may_end_here =
      !unread && (state_ == State::kPadding ||
                  ((state_ == State::kHeaderSection || state_ == State::kContent ||
                    state_ == State::kTrailerSection) &&
                   !section_started_ && chunk_remaining_ == 0));
  if (!may_end_here) {
    return Fail(Error(ErrorCode::kTruncated,
                      "bhttp stream: input ended inside the message at offset " + std::to_string(offset_)));
  }
  Events events;
  events.head_completed = !head_complete();
  events.trailers_completed = !trailers_complete();
  state_ = State::kPadding;
  finished_ = true;
  return events;
}

// One field line (or the section terminator) of an indeterminate-length field section. Returns false
// when its bytes have not all arrived (nothing consumed).
Result<bool> ResponseStreamDecoder::StepFieldLine(Fields& out, std::string_view what, bool& section_done) {
  ByteReader r(ByteView(buffer_).subspan(pos_), offset_);
  const size_t line_start = r.offset();
  auto need_more = [](const Error& e) { return e.code() == ErrorCode::kTruncated; };

  auto name_len = r.QuicVarint("field name length");
  if (!name_len.ok()) return need_more(name_len.error()) ? Result<bool>(false) : Result<bool>(name_len.error());
  if (*name_len == kTerminator) {
    section_done = true;
  } else {
    if (*name_len > opts_.max_field_section_size) {
      return TooLarge(std::string(what) + ": field name length", *name_len, opts_.max_field_section_size,
                      line_start);
    }
    const size_t name_at = r.offset();
    auto name = r.Bytes(static_cast<size_t>(*name_len), "field name");
    if (!name.ok()) return need_more(name.error()) ? Result<bool>(false) : Result<bool>(name.error());
    const size_t value_at = r.offset();
    auto value = r.VarintPrefixed(opts_.max_field_section_size, "field value");
    if (!value.ok()) return need_more(value.error()) ? Result<bool>(false) : Result<bool>(value.error());
    if (++field_count_ > opts_.max_fields) {
      return TooLarge("field line count", field_count_, opts_.max_fields, line_start);
    }
    if (!ValidFieldName(AsChars(*name))) {
      return MalformedAt(std::string(what) + ": field name is not a lowercase token", name_at);
    }
    if (!ValidFieldValue(AsChars(*value))) {
      return MalformedAt(std::string(what) + ": field value has NUL/CR/LF or surrounding whitespace", value_at);
    }
    out.push_back(Field{std::string(AsChars(*name)), std::string(AsChars(*value))});
    const size_t section_size = r.offset() - section_start_;
    if (section_size > opts_.max_field_section_size) {
      return TooLarge(std::string(what) + " size", section_size, opts_.max_field_section_size, section_start_);
    }
  }
  section_started_ = true;
  pos_ += r.offset() - offset_;
  offset_ = r.offset();
  return true;
}

// Parses the next complete element. Returns true if it consumed something, false if it needs more input.
Result<bool> ResponseStreamDecoder::Step(Events& events) {
  ByteReader r(ByteView(buffer_).subspan(pos_), offset_);
  auto consume = [&] {
    pos_ += r.offset() - offset_;
    offset_ = r.offset();
  };
  auto start_section = [&](State next) {
    state_ = next;
    section_started_ = false;
    section_start_ = offset_;
  };
  switch (state_) {
    case State::kFraming: {
      auto framing = r.QuicVarint("framing indicator");
      if (!framing.ok()) return false;  // a varint is only ever truncated here
      if (*framing != kFramingIndeterminateResponse) {
        return MalformedAt("framing indicator " + std::to_string(*framing) +
                               " where an indeterminate-length response was expected",
                           offset_);
      }
      consume();
      state_ = State::kStatus;
      return true;
    }
    case State::kStatus: {
      const size_t at = offset_;
      auto status = r.QuicVarint("status code");
      if (!status.ok()) return false;
      if (*status >= kMinInformationalStatus && *status <= kMaxInformationalStatus) {
        if (head_.informational.size() >= opts_.max_informational_responses) {
          return TooLarge("informational response count", head_.informational.size() + 1,
                          opts_.max_informational_responses, at);
        }
        consume();
        InformationalResponse info;
        info.status = static_cast<uint16_t>(*status);
        head_.informational.push_back(std::move(info));
        start_section(State::kInformationalSection);
        return true;
      }
      if (*status < kMinFinalStatus || *status > kMaxFinalStatus) {
        return MalformedAt("status code " + std::to_string(*status) + " is not 100..599", at);
      }
      consume();
      head_.status = static_cast<uint16_t>(*status);
      start_section(State::kHeaderSection);
      return true;
    }
    case State::kInformationalSection:
    case State::kHeaderSection:
    case State::kTrailerSection: {
      bool done = false;
      Fields& out = state_ == State::kInformationalSection ? head_.informational.back().headers
                    : state_ == State::kHeaderSection      ? head_.headers
                                                           : trailers_;
      const char* what = state_ == State::kInformationalSection ? "informational header section"
                         : state_ == State::kHeaderSection      ? "header section"
                                                                : "trailer section";
      CMLN_ASSIGN_OR_RETURN(bool progressed, StepFieldLine(out, what, done));
      if (!progressed || !done) return progressed;
      if (state_ == State::kInformationalSection) {
        state_ = State::kStatus;
      } else if (state_ == State::kHeaderSection) {
        events.head_completed = true;
        start_section(State::kContent);
      } else {
        events.trailers_completed = true;
        state_ = State::kPadding;
      }
      return true;
    }
    case State::kContent: {
      if (chunk_remaining_ > 0) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_remaining_, r.remaining()));
        if (n == 0) return false;
        auto bytes = r.Bytes(n, "content chunk");
        if (!bytes.ok()) return bytes.error();
        Append(events.content, *bytes);
        chunk_remaining_ -= n;
        content_size_ += n;
        consume();
        return true;
      }
      const size_t at = offset_;
      auto len = r.QuicVarint("content chunk length");
      if (!len.ok()) return false;
      if (*len == kTerminator) {
        consume();
        start_section(State::kTrailerSection);
        return true;
      }
      if (*len > opts_.max_content_size - content_size_) {
        return TooLarge("content size", content_size_ + *len, opts_.max_content_size, at);
      }
      consume();
      section_started_ = true;
      chunk_remaining_ = *len;
      return true;
    }
    case State::kPadding: {
      ByteView rest = r.TakeRest();
      for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] != 0) return MalformedAt("non-zero padding byte", offset_ + i);
      }
      consume();
      return false;
    }
  }
  return false;
}

}  // namespace cmln::seal::bhttp
