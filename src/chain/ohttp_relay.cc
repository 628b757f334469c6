#include "chain/ohttp_relay.h"

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "chain/rest_records.h"

namespace cmln::chain {

namespace {

constexpr std::string_view kRequestType = "message/ohttp-req";
constexpr std::string_view kChunkedRequestType = "message/ohttp-chunked-req";
constexpr const char* kGatewayPath = "/v1/ohttp";

// The relay's own refusals, in the OpenAI-style shape the node uses ({"error": {"code", "message"}}).
void Refuse(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", message}, {"type", "relay_error"}}}}.dump(),
                  "application/json");
}

bool PassedContentType(const std::string& type) {
  return type == "message/ohttp-res" || type == "message/ohttp-chunked-res" ||
         type.rfind("application/json", 0) == 0;
}

// One forwarded exchange: the forwarding thread fills it from the gateway, the client's content provider
// drains it. Shared by both until the later of them is done.
struct Exchange {
  std::mutex mu;
  std::condition_variable cv;
  bool head = false;      // status and content type known
  bool finished = false;  // the gateway's body ended (or failed)
  bool failed = false;    // the gateway failed (before or after its head)
  bool cancelled = false;  // the client went away
  int status = 0;
  std::string content_type;
  std::deque<std::string> chunks;
  size_t buffered = 0;
  httplib::Client* upstream = nullptr;  // while the forwarder runs; stop() unblocks it when the client leaves
  std::thread forwarder;
};

}  // namespace

NodeEndpointLookup EndpointFromAttestations(
    std::function<Result<nlohmann::json>(const std::string& node_id)> record_of) {
  return [record_of = std::move(record_of)](const std::string& node_id) -> Result<std::string> {
    CMLN_ASSIGN_OR_RETURN(nlohmann::json j, record_of(node_id));
    CMLN_ASSIGN_OR_RETURN(AttestationRecord rec, ParseAttestationRecord(j));
    if (rec.status != kAttestationStatusVerified) {
      return Error(ErrorCode::kNotActive, "node " + node_id + " is not VERIFIED (" + rec.status + ")");
    }
    if (rec.endpoint.rfind("http://", 0) != 0 && rec.endpoint.rfind("https://", 0) != 0) {
      return Error(ErrorCode::kMalformed, "node " + node_id + " has no http(s) endpoint");
    }
    return rec.endpoint;
  };
}

void MountOhttpRelay(httplib::Server& server, NodeEndpointLookup lookup, OhttpRelayOptions options) {
  server.Post(R"(/v1/relay/([A-Za-z0-9._-]{1,128}))", [lookup = std::move(lookup), options](
                                                          const httplib::Request& req, httplib::Response& res) {
    const std::string type = req.get_header_value("Content-Type");
    if (type != kRequestType && type != kChunkedRequestType) {
      return Refuse(res, 415, "unsupported_media_type",
                    "a relay forwards only message/ohttp-req and message/ohttp-chunked-req");
    }
    if (req.body.size() > options.max_request_bytes) {
      return Refuse(res, 413, "request_too_large",
                    "encapsulated request above " + std::to_string(options.max_request_bytes) + " bytes");
    }
    const std::string node_id = req.matches[1];
    auto endpoint = lookup(node_id);
    if (!endpoint.ok()) {
      return Refuse(res, 502, "relay_unknown_node", "no VERIFIED node " + node_id + " to relay to");
    }

    auto ex = std::make_shared<Exchange>();
    // The forwarding thread owns copies of everything it reads: the handler may return before it ends.
    ex->forwarder = std::thread([ex, url = *endpoint, type, body = req.body, options] {
      httplib::Client upstream(url);
      upstream.set_connection_timeout(options.connect_timeout_ms / 1000, (options.connect_timeout_ms % 1000) * 1000);
      upstream.set_read_timeout(options.read_timeout_s, 0);
      upstream.set_write_timeout(30, 0);
      upstream.set_keep_alive(false);
      {
        std::lock_guard<std::mutex> lock(ex->mu);
        if (ex->cancelled) return;
        ex->upstream = &upstream;
      }
      httplib::Request out;
      out.method = "POST";
      out.path = kGatewayPath;
      out.set_header("Content-Type", type);  // and nothing else of the client's request
      out.set_header("User-Agent", "cmln-ohttp-relay");  // the same for every client (not httplib's version)
      out.body = body;
      out.response_handler = [&](const httplib::Response& r) {
        std::lock_guard<std::mutex> lock(ex->mu);
        ex->head = true;
        ex->status = r.status;
        const std::string ct = r.get_header_value("Content-Type");
        ex->content_type = PassedContentType(ct) ? ct : "application/octet-stream";
        ex->cv.notify_all();
        return true;
      };
      out.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
        std::unique_lock<std::mutex> lock(ex->mu);
        ex->cv.wait(lock, [&] { return ex->cancelled || ex->buffered < options.max_buffered_bytes; });
        if (ex->cancelled) return false;
        ex->chunks.emplace_back(data, len);
        ex->buffered += len;
        ex->cv.notify_all();
        return true;
      };
      httplib::Response ignored;
      httplib::Error err = httplib::Error::Success;
      const bool ok = upstream.send(out, ignored, err);
      std::lock_guard<std::mutex> lock(ex->mu);
      ex->upstream = nullptr;
      ex->failed = !ok;
      ex->finished = true;
      ex->cv.notify_all();
    });

    std::unique_lock<std::mutex> lock(ex->mu);
    ex->cv.wait(lock, [&] { return ex->head || ex->finished; });
    if (!ex->head) {
      lock.unlock();
      ex->forwarder.join();
      return Refuse(res, 502, "relay_upstream_unreachable", "node " + node_id + " did not answer the relay");
    }
    res.status = ex->status;
    res.set_header("Cache-Control", "no-store");
    const std::string content_type = ex->content_type;
    lock.unlock();
    res.set_chunked_content_provider(
        content_type,
        [ex](size_t, httplib::DataSink& sink) {
          std::unique_lock<std::mutex> lk(ex->mu);
          ex->cv.wait(lk, [&] { return !ex->chunks.empty() || ex->finished; });
          if (!ex->chunks.empty()) {
            std::string chunk = std::move(ex->chunks.front());
            ex->chunks.pop_front();
            ex->buffered -= chunk.size();
            ex->cv.notify_all();
            lk.unlock();
            return sink.write(chunk.data(), chunk.size());
          }
          // Finished and drained. A gateway that failed after its head ends the response without the
          // chunked terminator, so the client sees a truncated stream rather than a clean end.
          if (ex->failed) return false;
          lk.unlock();
          sink.done();
          return true;
        },
        [ex](bool) {
          {
            std::lock_guard<std::mutex> lk(ex->mu);
            ex->cancelled = true;
            if (ex->upstream != nullptr) ex->upstream->stop();  // a gateway blocked mid-generation
            ex->cv.notify_all();
          }
          if (ex->forwarder.joinable()) ex->forwarder.join();
        });
  });
}

}  // namespace cmln::chain
