// Prometheus metrics of the node (GET /metrics): counts and latencies only, never content, keys or
// identifiers of users (an escrow id or requester key is not a label).
//
//   cmln_node_requests_total{transport, outcome}   counter; transport ohttp | ohttp_chunked | envelope_v1 |
//                                                  plaintext, outcome = the protocol code or "ok"
//   cmln_node_request_seconds{transport}           histogram of whole-request latency (successful ones)
//   cmln_node_tokens_total{kind}                   prompt | completion tokens billed
//   cmln_node_batches_total{outcome}               journaled | settled | already_settled | rejected
//   cmln_node_in_flight                            gauge
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace cmln::node {

class Metrics {
 public:
  void CountRequest(const std::string& transport, const std::string& outcome);
  void ObserveLatency(const std::string& transport, double seconds);
  void AddTokens(uint64_t prompt, uint64_t completion);
  void CountBatch(const std::string& outcome);
  void SetInFlight(int64_t n) { in_flight_.store(n); }
  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, uint64_t> batches_;
  uint64_t prompt_tokens_ = 0;
  uint64_t completion_tokens_ = 0;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace cmln::node
