// Binary HTTP (RFC 9292): round trips, the RFC 9292 section 5 examples byte for byte, truncation at every
// offset, caps and malformed input with exact error codes.
#include "seal/bhttp.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/test_util.h"

namespace cmln::seal::bhttp {
namespace {

using testing::Hex;

Request SampleRequest() {
  Request r;
  r.method = "POST";
  r.scheme = "https";
  r.authority = "node.example";
  r.path = "/v1/chat/completions?stream=true";
  r.headers = {{"content-type", "application/json"}, {"accept", "text/event-stream"}, {"x-empty", ""}};
  r.content = ToBytes(std::string_view(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
  r.trailers = {{"x-checksum", "abc"}};
  return r;
}

Response SampleResponse() {
  Response r;
  r.informational = {{100, {}}, {103, {{"link", "</style.css>; rel=preload"}}}};
  r.status = 200;
  r.headers = {{"content-type", "text/event-stream"}, {"cache-control", "no-store"}};
  r.content = Bytes(300, 0x61);  // long enough for a 2-byte length varint
  r.trailers = {{"x-usage", "prompt=3, completion=7"}};
  return r;
}

// RFC 9292 section 5.1, "Known-Length Binary Encoding of Request" (hex dump as printed).
const char kRfcKnownLengthRequest[] =
    "00034745 54056874 74707300 0a2f6865"
    "6c6c6f2e 74787440 6c0a7573 65722d61"
    "67656e74 34637572 6c2f372e 31362e33"
    "206c6962 6375726c 2f372e31 362e3320"
    "4f70656e 53534c2f 302e392e 376c207a"
    "6c69622f 312e322e 3304686f 73740f77"
    "77772e65 78616d70 6c652e63 6f6d0f61"
    "63636570 742d6c61 6e677561 67650665"
    "6e2c206d 690000";

// RFC 9292 section 5.1, "Indeterminate-Length Binary Encoding of Request" (10 bytes of padding).
const char kRfcIndeterminateRequest[] =
    "02034745 54056874 74707300 0a2f6865"
    "6c6c6f2e 7478740a 75736572 2d616765"
    "6e743463 75726c2f 372e3136 2e33206c"
    "69626375 726c2f37 2e31362e 33204f70"
    "656e5353 4c2f302e 392e376c 207a6c69"
    "622f312e 322e3304 686f7374 0f777777"
    "2e657861 6d706c65 2e636f6d 0f616363"
    "6570742d 6c616e67 75616765 06656e2c"
    "206d6900 00000000 00000000 00000000";

// RFC 9292 section 5.2, "Binary Response including Interim Responses" (indeterminate length).
const char kRfcIndeterminateResponse[] =
    "03406607 72756e6e 696e670a 22736c65"
    "65702031 35220040 67046c69 6e6b233c"
    "2f737479 6c652e63 73733e3b 2072656c"
    "3d707265 6c6f6164 3b206173 3d737479"
    "6c65046c 696e6b24 3c2f7363 72697074"
    "2e6a733e 3b207265 6c3d7072 656c6f61"
    "643b2061 733d7363 72697074 0040c804"
    "64617465 1d4d6f6e 2c203237 204a756c"
    "20323030 39203132 3a32383a 35332047"
    "4d540673 65727665 72064170 61636865"
    "0d6c6173 742d6d6f 64696669 65641d57"
    "65642c20 3232204a 756c2032 30303920"
    "31393a31 353a3536 20474d54 04657461"
    "67142233 34616133 38372d64 2d313536"
    "38656230 30220d61 63636570 742d7261"
    "6e676573 05627974 65730e63 6f6e7465"
    "6e742d6c 656e6774 68023531 04766172"
    "790f4163 63657074 2d456e63 6f64696e"
    "670c636f 6e74656e 742d7479 70650a74"
    "6578742f 706c6169 6e003348 656c6c6f"
    "20576f72 6c642120 4d792063 6f6e7465"
    "6e742069 6e636c75 64657320 61207472"
    "61696c69 6e672043 524c462e 0d0a0000";

// RFC 9292 section 5.2, "Known-Length Encoding of Response" (the chunked-encoding example).
const char kRfcKnownLengthResponse[] =
    "0140c800 1d546869 7320636f 6e74656e"
    "7420636f 6e746169 6e732043 524c462e"
    "0d0a0d07 74726169 6c657204 74657874";

Bytes HexSpaced(std::string hex) {
  std::string clean;
  for (char c : hex) {
    if (c != ' ') clean.push_back(c);
  }
  return Hex(clean);
}

Request RfcSampleRequest() {
  Request r;
  r.method = "GET";
  r.scheme = "https";
  r.authority = "";
  r.path = "/hello.txt";
  r.headers = {{"user-agent", "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"},
               {"host", "www.example.com"},
               {"accept-language", "en, mi"}};
  return r;
}

TEST(Bhttp, RequestRoundTrip) {
  const Request want = SampleRequest();
  auto enc = EncodeRequest(want);
  ASSERT_TRUE(enc.ok()) << enc.error().ToString();
  EXPECT_EQ((*enc)[0], 0x00);  // known-length request
  auto got = DecodeRequest(*enc);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, want);
}

TEST(Bhttp, ResponseRoundTrip) {
  const Response want = SampleResponse();
  auto enc = EncodeResponse(want);
  ASSERT_TRUE(enc.ok()) << enc.error().ToString();
  EXPECT_EQ((*enc)[0], 0x01);  // known-length response
  auto got = DecodeResponse(*enc);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, want);
}

TEST(Bhttp, EmptyContentAndSectionsRoundTrip) {
  Request req;
  req.method = "GET";
  req.scheme = "https";
  req.path = "/";
  auto enc = EncodeRequest(req);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(HexEncode(*enc), "0003474554056874747073000" "12f000000");
  auto got = DecodeRequest(*enc);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, req);
}

TEST(Bhttp, RfcKnownLengthRequestExample) {
  const Bytes wire = HexSpaced(kRfcKnownLengthRequest);
  auto got = DecodeRequest(wire);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, RfcSampleRequest());
  auto enc = EncodeRequest(*got);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, wire);
  // "the last two bytes ... can each be removed without altering the semantics of the message".
  for (size_t cut = 1; cut <= 2; ++cut) {
    auto shorter = DecodeRequest(ByteView(wire).first(wire.size() - cut));
    ASSERT_TRUE(shorter.ok()) << shorter.error().ToString();
    EXPECT_EQ(*shorter, RfcSampleRequest());
  }
}

TEST(Bhttp, RfcIndeterminateRequestExample) {
  const Bytes wire = HexSpaced(kRfcIndeterminateRequest);
  auto got = DecodeRequest(wire);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, RfcSampleRequest());
  // "anything up to 12 bytes can be removed from this message without affecting its meaning".
  for (size_t cut = 1; cut <= 12; ++cut) {
    auto shorter = DecodeRequest(ByteView(wire).first(wire.size() - cut));
    ASSERT_TRUE(shorter.ok()) << "cut " << cut << ": " << shorter.error().ToString();
    EXPECT_EQ(*shorter, RfcSampleRequest());
  }
  // One more byte cuts into the header section's terminator.
  auto too_short = DecodeRequest(ByteView(wire).first(wire.size() - 13));
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.error().code(), ErrorCode::kTruncated);
}

Response RfcInterimResponse() {
  Response r;
  r.informational = {{102, {{"running", "\"sleep 15\""}}},
                     {103,
                      {{"link", "</style.css>; rel=preload; as=style"},
                       {"link", "</script.js>; rel=preload; as=script"}}}};
  r.status = 200;
  r.headers = {{"date", "Mon, 27 Jul 2009 12:28:53 GMT"},
               {"server", "Apache"},
               {"last-modified", "Wed, 22 Jul 2009 19:15:56 GMT"},
               {"etag", "\"34aa387-d-1568eb00\""},
               {"accept-ranges", "bytes"},
               {"content-length", "51"},
               {"vary", "Accept-Encoding"},
               {"content-type", "text/plain"}};
  r.content = ToBytes(std::string_view("Hello World! My content includes a trailing CRLF.\r\n"));
  return r;
}

TEST(Bhttp, RfcIndeterminateResponseExampleAndWriter) {
  const Bytes wire = HexSpaced(kRfcIndeterminateResponse);
  const Response want = RfcInterimResponse();
  auto got = DecodeResponse(wire);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, want);

  // The incremental writer reproduces the RFC bytes exactly.
  auto head = EncodeIndeterminateResponseHead(want);
  auto chunk = EncodeIndeterminateContentChunk(want.content);
  auto tail = EncodeIndeterminateResponseTail({});
  ASSERT_TRUE(head.ok() && chunk.ok() && tail.ok());
  EXPECT_EQ(Concat(*head, *chunk, *tail), wire);
  auto empty_chunk = EncodeIndeterminateContentChunk({});
  ASSERT_TRUE(empty_chunk.ok());
  EXPECT_TRUE(empty_chunk->empty());

  // Legal truncation points: after the final control data, after the header section, after the content.
  Response no_headers = want;
  no_headers.headers.clear();
  auto head_no_headers = EncodeIndeterminateResponseHead(no_headers);
  ASSERT_TRUE(head_no_headers.ok());
  const size_t after_control = head_no_headers->size() - 1;  // drop the empty section's terminator
  const size_t after_headers = head->size();
  const size_t after_content = head->size() + chunk->size() + 1;
  for (size_t n = 0; n < wire.size(); ++n) {
    SCOPED_TRACE("prefix " + std::to_string(n));
    auto r = DecodeResponse(ByteView(wire).first(n));
    if (n == after_control || n == after_headers || n == after_content) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      Response expect = want;
      if (n < after_headers) expect.headers.clear();
      if (n < after_content) expect.content.clear();
      EXPECT_EQ(*r, expect);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), ErrorCode::kTruncated);
    }
  }
}

TEST(Bhttp, RfcKnownLengthResponseExample) {
  const Bytes wire = HexSpaced(kRfcKnownLengthResponse);
  auto got = DecodeResponse(wire);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  Response want;
  want.status = 200;
  want.content = ToBytes(std::string_view("This content contains CRLF.\r\n"));
  want.trailers = {{"trailer", "text"}};
  EXPECT_EQ(*got, want);
  auto enc = EncodeResponse(want);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, wire);
}

// Every prefix of a known-length request is kTruncated, except the three points where RFC 9292 allows
// truncation; there the message decodes with the later sections empty.
TEST(Bhttp, A16_EveryTruncationOfRequest) {
  const Request full = SampleRequest();
  Request control_only = full;
  control_only.headers.clear();
  control_only.content.clear();
  control_only.trailers.clear();
  Request with_headers = control_only;
  with_headers.headers = full.headers;
  Request with_content = with_headers;
  with_content.content = full.content;
  auto e_full = EncodeRequest(full);
  auto e0 = EncodeRequest(control_only);
  auto e1 = EncodeRequest(with_headers);
  auto e2 = EncodeRequest(with_content);
  ASSERT_TRUE(e_full.ok() && e0.ok() && e1.ok() && e2.ok());
  // Each encoding ends with one zero byte per empty trailing section.
  const std::map<size_t, const Request*> legal = {
      {e0->size() - 3, &control_only}, {e1->size() - 2, &with_headers}, {e2->size() - 1, &with_content}};
  size_t truncated = 0;
  for (size_t n = 0; n < e_full->size(); ++n) {
    SCOPED_TRACE("prefix " + std::to_string(n));
    auto r = DecodeRequest(ByteView(*e_full).first(n));
    auto it = legal.find(n);
    if (it != legal.end()) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      EXPECT_EQ(*r, *it->second);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), ErrorCode::kTruncated) << r.error().ToString();
      ++truncated;
    }
  }
  EXPECT_EQ(truncated, e_full->size() - 3);
}

TEST(Bhttp, A16_EveryTruncationOfResponse) {
  auto enc = EncodeResponse(SampleResponse());
  ASSERT_TRUE(enc.ok());
  size_t ok = 0;
  for (size_t n = 0; n < enc->size(); ++n) {
    auto r = DecodeResponse(ByteView(*enc).first(n));
    if (r.ok()) {
      ++ok;
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->informational, SampleResponse().informational);
    } else {
      EXPECT_EQ(r.error().code(), ErrorCode::kTruncated) << "prefix " << n << ": " << r.error().ToString();
    }
  }
  EXPECT_EQ(ok, 3u);  // after control data, after headers, after content
}

TEST(Bhttp, ZeroPaddingAccepted) {
  auto enc = EncodeRequest(SampleRequest());
  ASSERT_TRUE(enc.ok());
  Bytes padded = *enc;
  padded.resize(padded.size() + 32, 0);
  auto r = DecodeRequest(padded);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, SampleRequest());
}

TEST(Bhttp, NonZeroPaddingMalformed) {
  auto enc = EncodeRequest(SampleRequest());
  ASSERT_TRUE(enc.ok());
  Bytes padded = *enc;
  padded.insert(padded.end(), {0x00, 0x00, 0x01});
  auto r = DecodeRequest(padded);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.error().message().find("offset " + std::to_string(enc->size() + 2)), std::string::npos)
      << r.error().message();
}

TEST(Bhttp, BadFramingIndicatorMalformed) {
  for (const char* hex : {"04", "3f", "4004"}) {
    auto req = DecodeRequest(Hex(hex));
    ASSERT_FALSE(req.ok());
    EXPECT_EQ(req.error().code(), ErrorCode::kMalformed) << hex;
    auto resp = DecodeResponse(Hex(hex));
    ASSERT_FALSE(resp.ok());
    EXPECT_EQ(resp.error().code(), ErrorCode::kMalformed) << hex;
  }
  // A response where a request is expected, and the other way round.
  auto req = DecodeRequest(Hex("0140c8"));
  ASSERT_FALSE(req.ok());
  EXPECT_EQ(req.error().code(), ErrorCode::kMalformed);
  auto resp = DecodeResponse(Hex("00034745540568747470730b6578616d706c652e636f6d012f"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().code(), ErrorCode::kMalformed);
  // Non-minimal varint for the framing indicator is accepted (RFC 9000 permits it).
  auto padded_framing = DecodeResponse(Hex("400140c8"));
  ASSERT_TRUE(padded_framing.ok()) << padded_framing.error().ToString();
  EXPECT_EQ(padded_framing->status, 200);
}

TEST(Bhttp, EmptyInputTruncated) {
  auto r = DecodeRequest({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTruncated);
}

TEST(Bhttp, InvalidStatusCodesMalformed) {
  // 99, 600, 0 as final; 1xx is informational so a lone "0164" is truncated (its header section is missing).
  for (const char* hex : {"0140630000", "0142580000", "01000000"}) {
    auto r = DecodeResponse(Hex(hex));
    ASSERT_FALSE(r.ok()) << hex;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << hex << ": " << r.error().ToString();
  }
  auto lone_informational = DecodeResponse(Hex("014064"));
  ASSERT_FALSE(lone_informational.ok());
  EXPECT_EQ(lone_informational.error().code(), ErrorCode::kTruncated);
  // An informational response with no final response after it.
  auto no_final = DecodeResponse(Hex("01406400"));
  ASSERT_FALSE(no_final.ok());
  EXPECT_EQ(no_final.error().code(), ErrorCode::kTruncated);
}

// Hand-built request 0 / GET / https / "" / "/" with one header field (name, value).
Bytes RequestWithField(std::string_view name, std::string_view value, uint8_t framing = 0) {
  Bytes out = {framing, 0x03, 'G', 'E', 'T', 0x05, 'h', 't', 't', 'p', 's', 0x00, 0x01, '/'};
  Bytes line;
  line.push_back(static_cast<uint8_t>(name.size()));
  Append(line, name);
  line.push_back(static_cast<uint8_t>(value.size()));
  Append(line, value);
  if (framing == 0) {
    out.push_back(static_cast<uint8_t>(line.size()));
    Append(out, line);
  } else {
    Append(out, line);
    out.push_back(0x00);
  }
  return out;
}

TEST(Bhttp, InvalidFieldNamesMalformed) {
  for (uint8_t framing : {0, 2}) {
    for (std::string_view name : {"Content-Type", "X", ":path", "bad name", "bad\x01", "caf\xc3\xa9"}) {
      auto r = DecodeRequest(RequestWithField(name, "v", framing));
      ASSERT_FALSE(r.ok()) << name;
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << name << ": " << r.error().ToString();
    }
    // Empty name: known-length only (in the indeterminate form a zero name length ends the section).
    if (framing == 0) {
      auto empty = DecodeRequest(RequestWithField("", "v", framing));
      ASSERT_FALSE(empty.ok());
      EXPECT_EQ(empty.error().code(), ErrorCode::kMalformed);
    }
    // A valid one for contrast.
    auto good = DecodeRequest(RequestWithField("x-ok_1.~", "v v", framing));
    ASSERT_TRUE(good.ok()) << good.error().ToString();
    EXPECT_EQ(good->headers, (Fields{{"x-ok_1.~", "v v"}}));
  }
}

TEST(Bhttp, InvalidFieldValuesMalformed) {
  for (std::string_view value : {std::string_view("a\r\nb"), std::string_view("a\0b", 3), std::string_view(" lead"),
                                 std::string_view("trail\t")}) {
    auto r = DecodeRequest(RequestWithField("x", value));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().ToString();
  }
}

TEST(Bhttp, InvalidControlDataMalformed) {
  // Method with a space; path with a space; authority with a control byte.
  for (const char* hex : {"00044720455405687474707300012f", "000347455405687474707300022f20",
                          "00034745540568747470730101012f"}) {
    auto r = DecodeRequest(Hex(hex));
    ASSERT_FALSE(r.ok()) << hex;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << hex << ": " << r.error().ToString();
  }
  // Empty method.
  auto r = DecodeRequest(Hex("0000056874747073000" "12f"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
}

TEST(Bhttp, FieldLineOverrunningItsSectionMalformed) {
  // Known-length header section of 3 bytes whose field line claims a 5-byte name.
  auto r = DecodeRequest(Hex("00034745540568747470730001" "2f" "03" "056162"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().ToString();
}

TEST(Bhttp, OversizeLengthsRejected) {
  DecodeOptions small;
  small.max_field_section_size = 64;
  small.max_content_size = 100;
  small.max_fields = 3;
  small.max_informational_responses = 1;

  // Known-length content length claims 2^30 (no bytes follow): the cap fires before truncation.
  {
    auto r = DecodeRequest(Hex("00034745540568747470730001" "2f" "00" "c0000000" "40000000"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge) << r.error().ToString();
  }
  // Largest varint for a header section length.
  {
    auto r = DecodeRequest(Hex("00034745540568747470730001" "2f" "ffffffffffffffff"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
  // Method length beyond the cap.
  {
    auto r = DecodeRequest(Hex("00" "80ffffff"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
  Request req = SampleRequest();
  // Content above a small cap, both framings.
  req.content = Bytes(101, 'x');
  auto enc = EncodeRequest(req);
  ASSERT_TRUE(enc.ok());
  {
    auto r = DecodeRequest(*enc, small);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
  {
    // Indeterminate content: two chunks of 60 bytes exceed 100 in total.
    Bytes b = Hex("02034745540568747470730001" "2f" "00");
    for (int i = 0; i < 2; ++i) {
      b.push_back(60);
      b.insert(b.end(), 60, 'x');
    }
    b.insert(b.end(), {0x00, 0x00});
    auto r = DecodeRequest(b, small);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
    auto ok = DecodeRequest(b);
    ASSERT_TRUE(ok.ok()) << ok.error().ToString();
    EXPECT_EQ(ok->content, Bytes(120, 'x'));
  }
  // Too many fields.
  {
    Request many = SampleRequest();
    many.content.clear();
    many.headers = {{"a", "1"}, {"b", "2"}};
    many.trailers = {{"c", "3"}, {"d", "4"}};
    auto e = EncodeRequest(many);
    ASSERT_TRUE(e.ok());
    auto r = DecodeRequest(*e, small);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
    many.trailers.pop_back();
    auto three = EncodeRequest(many);
    ASSERT_TRUE(three.ok());
    EXPECT_TRUE(DecodeRequest(*three, small).ok());
  }
  // Indeterminate field section above the section cap.
  {
    Bytes big = RequestWithField("x", std::string(60, 'v'), 2);
    auto r = DecodeRequest(big, small);
    ASSERT_TRUE(r.ok()) << r.error().ToString();  // 1 + 1 + 1 + 60 = 63 bytes
    Bytes bigger = RequestWithField("xy", std::string(61, 'v'), 2);
    auto r2 = DecodeRequest(bigger, small);
    ASSERT_FALSE(r2.ok());
    EXPECT_EQ(r2.error().code(), ErrorCode::kLengthTooLarge);
  }
  // Too many informational responses.
  {
    auto e = EncodeResponse(SampleResponse());  // two informational responses
    ASSERT_TRUE(e.ok());
    DecodeOptions opts;
    opts.max_informational_responses = 1;
    auto r = DecodeResponse(*e, opts);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
}

TEST(Bhttp, DefaultCapsAreDocumentedValues) {
  const DecodeOptions o = DefaultDecodeOptions();
  EXPECT_EQ(o.max_field_section_size, 64u * 1024);
  EXPECT_EQ(o.max_content_size, 16u * 1024 * 1024);
  EXPECT_EQ(o.max_fields, 512u);
  EXPECT_EQ(o.max_informational_responses, 8u);
}

TEST(Bhttp, EncodeRefusesWhatDecodeRejects) {
  Request req = SampleRequest();
  req.headers.push_back({"Content-Length", "3"});
  auto r = EncodeRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);

  req = SampleRequest();
  req.trailers.push_back({"x", "a\nb"});
  r = EncodeRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);

  req = SampleRequest();
  req.method = "";
  r = EncodeRequest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);

  Response resp = SampleResponse();
  resp.status = 101;  // informational status as the final one
  auto e = EncodeResponse(resp);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  resp = SampleResponse();
  resp.informational[0].status = 200;
  e = EncodeResponse(resp);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  resp = SampleResponse();
  resp.status = 600;
  auto head = EncodeIndeterminateResponseHead(resp);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Bhttp, IndeterminateWriterStreamsDecodableResponse) {
  Response head;
  head.status = 200;
  head.headers = {{"content-type", "text/event-stream"}};
  auto h = EncodeIndeterminateResponseHead(head);
  ASSERT_TRUE(h.ok());
  Bytes stream = *h;
  std::string all;
  for (int i = 0; i < 5; ++i) {
    const std::string event = "data: {\"token\":" + std::to_string(i) + "}\n\n";
    all += event;
    auto c = EncodeIndeterminateContentChunk(AsBytes(event));
    ASSERT_TRUE(c.ok());
    Append(stream, *c);
  }
  auto t = EncodeIndeterminateResponseTail({{"x-usage", "5"}});
  ASSERT_TRUE(t.ok());
  Append(stream, *t);
  auto r = DecodeResponse(stream);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers, head.headers);
  EXPECT_EQ(AsChars(r->content), all);
  EXPECT_EQ(r->trailers, (Fields{{"x-usage", "5"}}));
}

// ---------------------------------------------------------------------------------------------
// ResponseStreamDecoder: the incremental reader of indeterminate-length responses.

// Everything one stream decoder produced from `fragments` and the end of input.
struct StreamResult {
  Result<Response> response = Error(ErrorCode::kInternal, "unset");
  std::vector<Bytes> content_pieces;
};

StreamResult DecodeInFragments(const std::vector<ByteView>& fragments,
                               const DecodeOptions& options = DefaultDecodeOptions()) {
  StreamResult out;
  ResponseStreamDecoder d(options);
  Bytes content;
  for (ByteView f : fragments) {
    auto ev = d.Push(f);
    if (!ev.ok()) {
      out.response = ev.error();
      return out;
    }
    if (!ev->content.empty()) out.content_pieces.push_back(ev->content);
    Append(content, ev->content);
  }
  auto end = d.Finish();
  if (!end.ok()) {
    out.response = end.error();
    return out;
  }
  Response r = d.head();
  r.content = content;
  r.trailers = d.trailers();
  out.response = r;
  return out;
}

std::vector<ByteView> SplitEvery(ByteView wire, size_t step) {
  std::vector<ByteView> parts;
  for (size_t i = 0; i < wire.size(); i += step) parts.push_back(wire.subspan(i, std::min(step, wire.size() - i)));
  return parts;
}

Bytes SampleStream(std::string* all_content = nullptr) {
  Response head = SampleResponse();
  Bytes wire = *EncodeIndeterminateResponseHead(head);
  std::string all;
  for (int i = 0; i < 4; ++i) {
    const std::string event = "data: {\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(70, 'x') + "\"}\n\n";
    all += event;
    Append(wire, *EncodeIndeterminateContentChunk(AsBytes(event)));
  }
  Append(wire, *EncodeIndeterminateResponseTail({{"gonka-receipt", "AAAA"}}));
  if (all_content) *all_content = all;
  return wire;
}

TEST(BhttpStream, RfcInterimResponseByteByByte) {
  const Bytes wire = HexSpaced(kRfcIndeterminateResponse);
  auto r = DecodeInFragments(SplitEvery(wire, 1));
  ASSERT_TRUE(r.response.ok()) << r.response.error().ToString();
  EXPECT_EQ(*r.response, RfcInterimResponse());
}

// Every two-piece split and several piece sizes give exactly what the whole-message decoder gives.
TEST(BhttpStream, EverySplitMatchesWholeDecoder) {
  std::string all;
  const Bytes wire = SampleStream(&all);
  auto whole = DecodeResponse(wire);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(AsChars(whole->content), all);
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    auto r = DecodeInFragments({ByteView(wire).first(cut), ByteView(wire).subspan(cut)});
    ASSERT_TRUE(r.response.ok()) << r.response.error().ToString();
    EXPECT_EQ(*r.response, *whole);
  }
  for (size_t step : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    auto r = DecodeInFragments(SplitEvery(wire, step));
    ASSERT_TRUE(r.response.ok());
    EXPECT_EQ(*r.response, *whole);
  }
}

// Content is handed out as it arrives, before the trailers, and a chunk split across fragments comes
// out in pieces: a streaming client can show tokens while the response is still being produced.
TEST(BhttpStream, ContentDeliveredBeforeTrailers) {
  Response head;
  head.status = 200;
  head.headers = {{"content-type", "text/event-stream"}};
  const Bytes h = *EncodeIndeterminateResponseHead(head);
  const Bytes c1 = *EncodeIndeterminateContentChunk(AsBytes(std::string_view("data: one\n\n")));
  const Bytes c2 = *EncodeIndeterminateContentChunk(AsBytes(std::string_view("data: two\n\n")));
  const Bytes tail = *EncodeIndeterminateResponseTail({{"gonka-receipt", "cmVjZWlwdA=="}});

  ResponseStreamDecoder d;
  auto e0 = d.Push(h);
  ASSERT_TRUE(e0.ok());
  EXPECT_TRUE(e0->head_completed);
  EXPECT_TRUE(d.head_complete());
  EXPECT_EQ(d.head().status, 200);
  EXPECT_EQ(d.head().headers, head.headers);
  EXPECT_TRUE(e0->content.empty());
  auto e1 = d.Push(c1);
  ASSERT_TRUE(e1.ok());
  EXPECT_FALSE(e1->head_completed);
  EXPECT_EQ(AsChars(e1->content), "data: one\n\n");
  // Half of the second chunk: its first bytes are delivered now.
  auto e2 = d.Push(ByteView(c2).first(5));
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(AsChars(e2->content), "data");
  auto e3 = d.Push(ByteView(c2).subspan(5));
  ASSERT_TRUE(e3.ok());
  EXPECT_EQ(AsChars(e3->content), ": two\n\n");
  EXPECT_FALSE(d.trailers_complete());
  auto e4 = d.Push(tail);
  ASSERT_TRUE(e4.ok());
  EXPECT_TRUE(e4->trailers_completed);
  EXPECT_EQ(d.trailers(), (Fields{{"gonka-receipt", "cmVjZWlwdA=="}}));
  EXPECT_EQ(d.content_size(), 22u);
  auto end = d.Finish();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->trailers_completed);  // already reported
}

// Truncation at every offset: Finish() agrees with DecodeResponse on the prefix (kTruncated except at
// the RFC 9292 truncation points, where the rest is empty).
TEST(BhttpStream, A16_EveryTruncationMatchesWholeDecoder) {
  const Bytes wire = SampleStream();
  size_t ok = 0;
  for (size_t n = 0; n < wire.size(); ++n) {
    SCOPED_TRACE("prefix " + std::to_string(n));
    const ByteView prefix = ByteView(wire).first(n);
    auto whole = DecodeResponse(prefix);
    auto r = DecodeInFragments(SplitEvery(prefix, 3));
    ASSERT_EQ(whole.ok(), r.response.ok());
    if (whole.ok()) {
      ++ok;
      EXPECT_EQ(*r.response, *whole);
    } else {
      EXPECT_EQ(whole.error().code(), ErrorCode::kTruncated);
      EXPECT_EQ(r.response.error().code(), ErrorCode::kTruncated) << r.response.error().ToString();
    }
  }
  EXPECT_EQ(ok, 3u);  // after the final status, after the header section, after the content
}

// B5 at the BHTTP layer: a stream whose content never terminates (final chunk dropped) is an error.
TEST(BhttpStream, B5_StreamEndingInsideContentTruncated) {
  Response head;
  head.status = 200;
  Bytes wire = *EncodeIndeterminateResponseHead(head);
  Append(wire, *EncodeIndeterminateContentChunk(AsBytes(std::string_view("data: partial\n\n"))));
  ResponseStreamDecoder d;
  auto ev = d.Push(wire);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(AsChars(ev->content), "data: partial\n\n");
  auto end = d.Finish();
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().code(), ErrorCode::kTruncated);
}

TEST(BhttpStream, OtherFramingIndicatorsMalformed) {
  Response resp;
  resp.status = 200;
  auto known = EncodeResponse(resp);  // framing 1
  ASSERT_TRUE(known.ok());
  for (const Bytes& wire : {*known, Bytes{0x00}, Bytes{0x02}, Bytes{0x04}}) {
    ResponseStreamDecoder d;
    auto ev = d.Push(wire);
    ASSERT_FALSE(ev.ok());
    EXPECT_EQ(ev.error().code(), ErrorCode::kMalformed);
  }
}

// RFC 9000 permits non-minimal varints: framing 3 written as 0x40 0x03 (and status 200 as 0x40 0xc8)
// is the same indeterminate-length response to both decoders. (Found by bhttp_stream_fuzz, whose
// harness wrongly compared the first byte with 0x03.)
TEST(BhttpStream, NonMinimalFramingVarintSameAsWholeDecoder) {
  const Bytes wire{0x40, 0x03, 0x40, 0xc8};
  auto whole = DecodeResponse(wire);
  ASSERT_TRUE(whole.ok()) << whole.error().ToString();
  EXPECT_EQ(whole->status, 200);
  for (size_t step : {1u, 4u}) {
    auto r = DecodeInFragments(SplitEvery(wire, step));
    ASSERT_TRUE(r.response.ok()) << r.response.error().ToString();
    EXPECT_EQ(*r.response, *whole);
  }
}

TEST(BhttpStream, MalformedAndOversizeSameCodesAsWholeDecoder) {
  // Status 99, an uppercase field name, non-zero padding, a chunk above the content cap, too many fields.
  DecodeOptions small;
  small.max_content_size = 10;
  small.max_fields = 2;
  const std::vector<std::pair<Bytes, ErrorCode>> cases = {
      {Bytes{0x03, 0x40, 0x63}, ErrorCode::kMalformed},                          // status 99
      {Bytes{0x03, 0x40, 0xc8, 0x01, 'A', 0x00, 0x00}, ErrorCode::kMalformed},   // name "A"
      {Bytes{0x03, 0x40, 0xc8, 0x00, 0x00, 0x00, 0x00, 0x01}, ErrorCode::kMalformed},  // padding 01
      {Bytes{0x03, 0x40, 0xc8, 0x00, 0x0b}, ErrorCode::kLengthTooLarge},         // chunk of 11 > 10
      {Bytes{0x03, 0x40, 0xc8, 0x01, 'a', 0x00, 0x01, 'b', 0x00, 0x01, 'c', 0x00}, ErrorCode::kLengthTooLarge},
  };
  for (const auto& [wire, code] : cases) {
    SCOPED_TRACE(HexEncode(wire));
    auto whole = DecodeResponse(wire, small);
    ASSERT_FALSE(whole.ok());
    EXPECT_EQ(whole.error().code(), code);
    auto r = DecodeInFragments(SplitEvery(wire, 1), small);
    ASSERT_FALSE(r.response.ok());
    EXPECT_EQ(r.response.error().code(), code);
  }
}

// Errors are sticky, and the decoder refuses use after Finish.
TEST(BhttpStream, ErrorsStickyAndNoUseAfterFinish) {
  ResponseStreamDecoder bad;
  auto e = bad.Push(Bytes{0x03, 0x40, 0x63});
  ASSERT_FALSE(e.ok());
  auto again = bad.Push(Bytes{0x00});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kMalformed);
  auto fin = bad.Finish();
  ASSERT_FALSE(fin.ok());
  EXPECT_EQ(fin.error().code(), ErrorCode::kMalformed);

  ResponseStreamDecoder d;
  ASSERT_TRUE(d.Push(SampleStream()).ok());
  ASSERT_TRUE(d.Finish().ok());
  auto after = d.Push(Bytes{0x00});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), ErrorCode::kInvalidArgument);
}

// A long stream keeps the buffer small: only incomplete elements are held.
TEST(BhttpStream, LongStreamBoundedBuffer) {
  Response head;
  head.status = 200;
  ResponseStreamDecoder d;
  ASSERT_TRUE(d.Push(*EncodeIndeterminateResponseHead(head)).ok());
  const Bytes chunk = *EncodeIndeterminateContentChunk(Bytes(1000, 'z'));
  for (int i = 0; i < 2000; ++i) {
    auto ev = d.Push(chunk);
    ASSERT_TRUE(ev.ok());
    ASSERT_EQ(ev->content.size(), 1000u);
  }
  EXPECT_EQ(d.content_size(), 2000000u);
  ASSERT_TRUE(d.Push(*EncodeIndeterminateResponseTail({})).ok());
  ASSERT_TRUE(d.Finish().ok());
}

}  // namespace
}  // namespace cmln::seal::bhttp
