// The OpenAI request parser (precise errors for every bad field), the response renderers (OpenAI's
// shapes, invalid UTF-8 tolerated) and the error mapping. The server itself runs as a real process in
// openai_server_e2e_test.cc.
#include "engine/openai_server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cmln::engine {
namespace {

using nlohmann::json;

struct Bad {
  std::string body;
  ErrorCode code;
  std::string param;
};

std::string WithMessages(const std::string& extra) {
  return R"({"model":"m","messages":[{"role":"user","content":"hi"}])" + extra + "}";
}

TEST(OpenAiRequest, ParsesEveryField) {
  const std::string body = R"({"model":"smol","messages":[
      {"role":"developer","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
      {"role":"assistant","content":"ok","name":"x"}],
    "temperature":0.5,"top_p":0.9,"seed":-1,"max_completion_tokens":7,"max_tokens":3,"stop":["x","yy"],
    "n":1,"stream":true,"stream_options":{"include_usage":true},"return_token_ids":true,"user":"ignored",
    "frequency_penalty":0,"logprobs":false,"tools":[],"response_format":{"type":"text"}})";
  auto r = ParseChatRequest(body, OpenAiLimits{});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->model, "smol");
  ASSERT_EQ(r->completion.messages.size(), 3u);
  EXPECT_EQ(r->completion.messages[0].role, "system");
  EXPECT_EQ(r->completion.messages[0].content, "be brief");
  EXPECT_EQ(r->completion.messages[1].content, "ab");
  EXPECT_EQ(r->completion.messages[2].role, "assistant");
  EXPECT_EQ(r->completion.temperature, 0.5);
  EXPECT_EQ(r->completion.top_p, 0.9);
  EXPECT_EQ(r->completion.seed, UINT64_MAX);
  EXPECT_EQ(r->completion.max_tokens, 7u);  // max_completion_tokens wins over max_tokens
  EXPECT_EQ(r->completion.stop, (std::vector<std::string>{"x", "yy"}));
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_TRUE(r->return_token_ids);
}

TEST(OpenAiRequest, DefaultsAndNulls) {
  OpenAiLimits limits;
  limits.default_max_tokens = 33;
  auto r = ParseChatRequest(WithMessages(R"(,"temperature":null,"stop":null,"seed":null,"stream":null)"), limits);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->completion.temperature, 1.0);
  EXPECT_EQ(r->completion.top_p, 1.0);
  EXPECT_FALSE(r->completion.seed.has_value());
  EXPECT_EQ(r->completion.max_tokens, 33u);
  EXPECT_TRUE(r->completion.stop.empty());
  EXPECT_FALSE(r->stream);
  EXPECT_FALSE(r->include_usage);
  EXPECT_FALSE(r->return_token_ids);
  auto s = ParseChatRequest(WithMessages(R"(,"stop":"END")"), limits);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->completion.stop, std::vector<std::string>{"END"});
}

TEST(OpenAiRequest, RejectsEachBadFieldWithItsCodeAndParam) {
  OpenAiLimits limits;
  limits.max_body_bytes = 4096;
  limits.max_messages = 3;
  limits.max_tokens = 100;
  const std::vector<Bad> cases = {
      {"", ErrorCode::kBadEncoding, ""},
      {"{\"model\":", ErrorCode::kBadEncoding, ""},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", ErrorCode::kBadEncoding, ""},
      {"[1,2]", ErrorCode::kMalformed, ""},
      {std::string(5000, ' '), ErrorCode::kLengthTooLarge, ""},
      {std::string(100, '[') + std::string(100, ']'), ErrorCode::kLengthTooLarge, ""},
      {R"({"messages":[{"role":"user","content":"hi"}]})", ErrorCode::kMalformed, "model"},
      {R"({"model":"","messages":[{"role":"user","content":"hi"}]})", ErrorCode::kMalformed, "model"},
      {R"({"model":7,"messages":[{"role":"user","content":"hi"}]})", ErrorCode::kMalformed, "model"},
      {R"({"model":"m"})", ErrorCode::kMalformed, "messages"},
      {R"({"model":"m","messages":{}})", ErrorCode::kMalformed, "messages"},
      {R"({"model":"m","messages":[]})", ErrorCode::kMalformed, "messages"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},
          {"role":"user","content":"c"},{"role":"user","content":"d"}]})", ErrorCode::kLengthTooLarge, "messages"},
      {R"({"model":"m","messages":["hi"]})", ErrorCode::kMalformed, "messages[0]"},
      {R"({"model":"m","messages":[{"content":"hi"}]})", ErrorCode::kMalformed, "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user","content":"hi"},{"role":"robot","content":"x"}]})",
       ErrorCode::kMalformed, "messages[1].role"},
      {R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", ErrorCode::kUnsupported, "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[]}]})", ErrorCode::kUnsupported,
       "messages[0].tool_calls"},
      {R"({"model":"m","messages":[{"role":"user"}]})", ErrorCode::kMalformed, "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", ErrorCode::kMalformed, "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
       ErrorCode::kUnsupported, "messages[0].content[0].type"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]})", ErrorCode::kMalformed,
       "messages[0].content[0].text"},
      {WithMessages(R"(,"temperature":2.5)"), ErrorCode::kMalformed, "temperature"},
      {WithMessages(R"(,"temperature":-0.1)"), ErrorCode::kMalformed, "temperature"},
      {WithMessages(R"(,"temperature":"0.5")"), ErrorCode::kMalformed, "temperature"},
      {WithMessages(R"(,"top_p":0)"), ErrorCode::kMalformed, "top_p"},
      {WithMessages(R"(,"top_p":1.5)"), ErrorCode::kMalformed, "top_p"},
      {WithMessages(R"(,"seed":1.5)"), ErrorCode::kMalformed, "seed"},
      {WithMessages(R"(,"max_tokens":0)"), ErrorCode::kMalformed, "max_tokens"},
      {WithMessages(R"(,"max_tokens":-3)"), ErrorCode::kMalformed, "max_tokens"},
      {WithMessages(R"(,"max_tokens":2.5)"), ErrorCode::kMalformed, "max_tokens"},
      {WithMessages(R"(,"max_tokens":101)"), ErrorCode::kLengthTooLarge, "max_tokens"},
      {WithMessages(R"(,"max_completion_tokens":100000)"), ErrorCode::kLengthTooLarge, "max_completion_tokens"},
      {WithMessages(R"(,"stop":"")"), ErrorCode::kMalformed, "stop"},
      {WithMessages(R"(,"stop":["a",""])"), ErrorCode::kMalformed, "stop[1]"},
      {WithMessages(R"(,"stop":["a",2])"), ErrorCode::kMalformed, "stop[1]"},
      {WithMessages(R"(,"stop":["a","b","c","d","e"])"), ErrorCode::kLengthTooLarge, "stop"},
      {WithMessages(R"(,"stop":7)"), ErrorCode::kMalformed, "stop"},
      {WithMessages(R"(,"stop":")" + std::string(300, 'x') + "\""), ErrorCode::kLengthTooLarge, "stop"},
      {WithMessages(R"(,"n":2)"), ErrorCode::kUnsupported, "n"},
      {WithMessages(R"(,"n":"1")"), ErrorCode::kMalformed, "n"},
      {WithMessages(R"(,"stream":"yes")"), ErrorCode::kMalformed, "stream"},
      {WithMessages(R"(,"stream_options":{"include_usage":true})"), ErrorCode::kMalformed, "stream_options"},
      {WithMessages(R"(,"stream":true,"stream_options":[])"), ErrorCode::kMalformed, "stream_options"},
      {WithMessages(R"(,"stream":true,"stream_options":{"include_usage":1})"), ErrorCode::kMalformed,
       "stream_options.include_usage"},
      {WithMessages(R"(,"return_token_ids":"true")"), ErrorCode::kMalformed, "return_token_ids"},
      {WithMessages(R"(,"logprobs":true)"), ErrorCode::kUnsupported, "logprobs"},
      {WithMessages(R"(,"tools":[{"type":"function"}])"), ErrorCode::kUnsupported, "tools"},
      {WithMessages(R"(,"presence_penalty":0.5)"), ErrorCode::kUnsupported, "presence_penalty"},
      {WithMessages(R"(,"logit_bias":{"1":5})"), ErrorCode::kUnsupported, "logit_bias"},
      {WithMessages(R"(,"response_format":{"type":"json_object"})"), ErrorCode::kUnsupported, "response_format.type"},
      {WithMessages(R"(,"response_format":"text")"), ErrorCode::kMalformed, "response_format.type"},
  };
  for (const Bad& c : cases) {
    std::string param = "unset";
    auto r = ParseChatRequest(c.body, limits, &param);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code(), c.code) << c.body << " -> " << r.error().ToString();
    EXPECT_EQ(param, c.param) << c.body;
    if (!c.param.empty()) {
      EXPECT_EQ(r.error().message().rfind(c.param + ":", 0), 0u) << r.error().message();
    }
  }
}

ResponseMeta Meta() { return {"chatcmpl-1", "smol", 1700000000}; }

TEST(OpenAiResponse, NonStreamedShape) {
  Completion c;
  c.text = "Paris.";
  c.finish_reason = FinishReason::kLength;
  c.usage = {12, 3};
  c.token_ids = {5, 6, 7};
  const json j = json::parse(RenderChatCompletion(Meta(), c, true));
  EXPECT_EQ(j["id"], "chatcmpl-1");
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["created"], 1700000000);
  EXPECT_EQ(j["model"], "smol");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Paris.");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["choices"][0]["token_ids"], json({5, 6, 7}));
  EXPECT_EQ(j["usage"], json({{"prompt_tokens", 12}, {"completion_tokens", 3}, {"total_tokens", 15}}));
  EXPECT_FALSE(json::parse(RenderChatCompletion(Meta(), c, false))["choices"][0].contains("token_ids"));
}

TEST(OpenAiResponse, StreamChunks) {
  const json role = json::parse(RenderRoleChunk(Meta(), true));
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
  EXPECT_TRUE(role.contains("usage") && role["usage"].is_null());
  EXPECT_FALSE(json::parse(RenderRoleChunk(Meta(), false)).contains("usage"));
  const json piece = json::parse(RenderContentChunk(Meta(), "Hel", false));
  EXPECT_EQ(piece["choices"][0]["delta"], json({{"content", "Hel"}}));
  EXPECT_TRUE(piece["choices"][0]["finish_reason"].is_null());
  const std::vector<int32_t> ids = {1, 2};
  const json fin = json::parse(RenderFinishChunk(Meta(), FinishReason::kStop, &ids, false));
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(fin["choices"][0]["delta"], json::object());
  EXPECT_EQ(fin["choices"][0]["token_ids"], json({1, 2}));
  const json usage = json::parse(RenderUsageChunk(Meta(), {4, 2}));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 6);
}

TEST(OpenAiResponse, InvalidUtf8TextIsReplacedNotThrown) {
  // A model can emit byte tokens that do not form UTF-8; the response must still be valid JSON.
  const std::string chunk = RenderContentChunk(Meta(), "a\xff" "b", false);
  const json j = json::parse(chunk);
  EXPECT_EQ(j["choices"][0]["delta"]["content"], "a\xEF\xBF\xBD" "b");
}

TEST(OpenAiError, MapsCodesToStatusAndShape) {
  const HttpError bad = RenderError(Error(ErrorCode::kMalformed, "top_p: must be in (0, 1]"), "top_p");
  EXPECT_EQ(bad.status, 400);
  const json b = json::parse(bad.body);
  EXPECT_EQ(b["error"]["message"], "top_p: must be in (0, 1]");
  EXPECT_EQ(b["error"]["type"], "invalid_request_error");
  EXPECT_EQ(b["error"]["param"], "top_p");
  EXPECT_TRUE(b["error"]["code"].is_null());
  EXPECT_EQ(RenderError(Error(ErrorCode::kUnsupported, "n")).status, 400);
  EXPECT_EQ(json::parse(RenderError(Error(ErrorCode::kUnsupported, "n")).body)["error"]["code"], "unsupported");
  EXPECT_EQ(RenderError(Error(ErrorCode::kNotFound, "x")).status, 404);
  const HttpError internal = RenderError(Error(ErrorCode::kIoError, "secret path /home/x"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("secret"), std::string::npos);
  EXPECT_EQ(json::parse(internal.body)["error"]["type"], "server_error");
}

TEST(OpenAiServerStart, RefusesNonLoopbackAddresses) {
  struct NullEngine : Engine {
    std::string model_name() const override { return "null"; }
    Result<seal::Digest32> ModelDigest() const override { return Error(ErrorCode::kUnsupported, "none"); }
    Result<uint32_t> CountTokens(std::string_view) override { return 0u; }
    Result<Completion> Complete(const CompletionRequest&) override { return Completion{}; }
  } engine;
  OpenAiServerOptions o;
  o.host = "0.0.0.0";
  auto s = OpenAiServer::Start(engine, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  o.host = "127.0.0.1";
  o.max_concurrent = 0;
  EXPECT_EQ(OpenAiServer::Start(engine, o).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::engine
