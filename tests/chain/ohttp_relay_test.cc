// The Oblivious Relay (RFC 9458 section 6.2) of a network node, against a stand-in gateway on loopback:
// what it forwards (the body and the OHTTP Content-Type, nothing of the client), what it returns (the
// gateway's status, body and OHTTP/JSON Content-Type, streamed as it arrives), and its refusals.
// The relay with a real node and a real client: client_e2e_test (RelayedCompletionVerifies).
#include "chain/ohttp_relay.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/http_listen.h"

namespace cmln::chain {
namespace {

using namespace std::chrono_literals;

// A gateway stand-in: records what reached it; answers by the request body.
class FakeGateway {
 public:
  FakeGateway() {
    server_.Post("/v1/ohttp", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        headers_ = req.headers;
        body_ = req.body;
      }
      res.set_header("X-Gateway-Internal", "secret-topology");
      if (req.body == "stale") {
        res.status = 421;
        res.set_content(R"({"error":{"code":"stale_key","message":"key rotated"}})", "application/json");
      } else if (req.body == "stream") {
        res.status = 200;
        res.set_chunked_content_provider("message/ohttp-chunked-res", [this](size_t, httplib::DataSink& sink) {
          // First chunk now; the second only after the test saw the first through the relay.
          sink.write("chunk-1;", 8);
          for (int i = 0; i < 500 && !release_second_.load(); ++i) std::this_thread::sleep_for(10ms);
          sink.write("chunk-2;", 8);
          sink.done();
          return true;
        });
      } else if (req.body == "odd-type") {
        res.status = 200;
        res.set_content("x", "text/html");
      } else {
        res.status = 200;
        res.set_content("sealed:" + req.body, "message/ohttp-res");
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = ListenInBackground(server_);
  }
  ~FakeGateway() {
    release_second_ = true;
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Headers headers() {
    std::lock_guard<std::mutex> lock(mu_);
    return headers_;
  }
  std::string body() {
    std::lock_guard<std::mutex> lock(mu_);
    return body_;
  }
  std::atomic<bool> release_second_{false};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  httplib::Headers headers_;
  std::string body_;
};

class Relay : public ::testing::Test {
 protected:
  void SetUp() override {
    OhttpRelayOptions options;
    options.max_request_bytes = 1024;
    MountOhttpRelay(
        server_,
        [this](const std::string& node_id) -> Result<std::string> {
          if (node_id == "node-1") return gateway_.url();
          if (node_id == "node-down") return std::string("http://127.0.0.1:1");  // nothing listens
          return Error(ErrorCode::kNotFound, "no such node");
        },
        options);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = ListenInBackground(server_);
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  httplib::Result Post(const std::string& node, const std::string& body,
                       const std::string& type = "message/ohttp-req", httplib::Headers headers = {}) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    return c.Post("/v1/relay/" + node, headers, body, type);
  }
  static std::string Code(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }

  FakeGateway gateway_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(Relay, ForwardsTheSealedBodyAndNothingThatIdentifiesTheClient) {
  auto r = Post("node-1", "opaque-bytes", "message/ohttp-req",
                {{"Cookie", "session=alice"}, {"X-Forwarded-For", "203.0.113.7"}, {"User-Agent", "alice-laptop"},
                 {"Authorization", "Bearer alice"}, {"X-Client-Id", "alice"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "sealed:opaque-bytes");
  EXPECT_EQ(r->get_header_value("Content-Type"), "message/ohttp-res");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_FALSE(r->has_header("X-Gateway-Internal"));  // nothing of the gateway but its content type
  EXPECT_EQ(gateway_.body(), "opaque-bytes");
  const httplib::Headers seen = gateway_.headers();
  for (const char* h : {"Cookie", "X-Forwarded-For", "Authorization", "X-Client-Id", "Forwarded", "Via"}) {
    EXPECT_EQ(seen.count(h), 0u) << h << " reached the gateway";
  }
  auto agent = seen.find("User-Agent");  // the relay's own, the same for every client
  ASSERT_NE(agent, seen.end());
  EXPECT_EQ(agent->second, "cmln-ohttp-relay");
  for (const auto& [name, value] : seen) {
    EXPECT_EQ(value.find("alice"), std::string::npos) << name << ": " << value;
    EXPECT_EQ(value.find("203.0.113.7"), std::string::npos) << name << ": " << value;
  }
  auto type = seen.find("Content-Type");
  ASSERT_NE(type, seen.end());
  EXPECT_EQ(type->second, "message/ohttp-req");
}

TEST_F(Relay, StreamsChunkedResponsesAsTheyArrive) {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(20, 0);
  std::string got;
  std::string type;
  bool first_before_second = false;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/relay/node-1";
  req.set_header("Content-Type", "message/ohttp-chunked-req");
  req.body = "stream";
  req.response_handler = [&](const httplib::Response& r) {
    type = r.get_header_value("Content-Type");
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    got.append(data, len);
    if (got == "chunk-1;") {
      // The gateway holds its second chunk until now: the first came through the relay on its own.
      first_before_second = true;
      gateway_.release_second_ = true;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  ASSERT_TRUE(c.send(req, res, err)) << httplib::to_string(err);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(type, "message/ohttp-chunked-res");
  EXPECT_TRUE(first_before_second);
  EXPECT_EQ(got, "chunk-1;chunk-2;");
  EXPECT_EQ(gateway_.headers().find("Content-Type")->second, "message/ohttp-chunked-req");
}

TEST_F(Relay, PassesTheGatewaysPlaintextRefusalsForFailover) {
  auto r = Post("node-1", "stale");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 421);
  EXPECT_EQ(Code(r->body), "stale_key");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

TEST_F(Relay, OtherGatewayContentTypesAreNotPassedOn) {
  auto r = Post("node-1", "odd-type");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
}

TEST_F(Relay, RefusesWhatIsNotAnEncapsulatedRequest) {
  auto plain = Post("node-1", R"({"model":"m","messages":[]})", "application/json");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 415);
  EXPECT_EQ(Code(plain->body), "unsupported_media_type");
  EXPECT_EQ(gateway_.body(), "");  // nothing forwarded

  auto big = Post("node-1", std::string(1025, 'x'));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(Code(big->body), "request_too_large");
  EXPECT_EQ(gateway_.body(), "");
}

TEST_F(Relay, UnknownOrUnreachableNodesAreGatewayErrors) {
  auto unknown = Post("node-9", "x");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 502);
  EXPECT_EQ(Code(unknown->body), "relay_unknown_node");
  auto down = Post("node-down", "x");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 502);
  EXPECT_EQ(Code(down->body), "relay_upstream_unreachable");
  // Node ids outside the id alphabet never reach the lookup.
  httplib::Client c("127.0.0.1", port_);
  auto odd = c.Post("/v1/relay/..%2f", "x", "message/ohttp-req");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 404);
}

TEST(RelayLookup, OnlyVerifiedNodesWithAnHttpEndpoint) {
  auto record = [](const std::string& status, const std::string& endpoint) {
    return nlohmann::json{{"node_id", "n"},          {"participant", "p"},         {"model_id", "m"},
                          {"endpoint", endpoint},    {"release_id", "r"},          {"platform", "sim-tdx"},
                          {"simulated", true},       {"status", status},           {"sign_public_key", "00ff"},
                          {"ohttp_key_config", "01"}, {"bundle", "e30="},           {"bundle_hash", "ab"},
                          {"attested_epoch", "3"},   {"expires_after_epoch", "5"}, {"last_batch_seq", "7"},
                          {"status_reason", ""}};
  };
  nlohmann::json current;
  auto lookup = EndpointFromAttestations([&](const std::string&) -> Result<nlohmann::json> { return current; });
  current = record("ATTESTATION_STATUS_VERIFIED", "http://127.0.0.1:8101");
  auto ok = lookup("n");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(*ok, "http://127.0.0.1:8101");
  current = record("ATTESTATION_STATUS_EXPIRED", "http://127.0.0.1:8101");
  ASSERT_FALSE(lookup("n").ok());
  EXPECT_EQ(lookup("n").error().code(), ErrorCode::kNotActive);
  current = record("ATTESTATION_STATUS_VERIFIED", "file:///etc/passwd");
  ASSERT_FALSE(lookup("n").ok());
}

}  // namespace
}  // namespace cmln::chain
