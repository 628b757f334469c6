#include "node/metrics.h"

#include <sstream>

namespace cmln::node {

void Metrics::CountRequest(const std::string& transport, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{transport, outcome}];
}

void Metrics::ObserveLatency(const std::string& transport, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  Histogram& h = latency_[transport];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddTokens(uint64_t prompt, uint64_t completion) {
  std::lock_guard<std::mutex> lock(mu_);
  prompt_tokens_ += prompt;
  completion_tokens_ += completion;
}

void Metrics::CountBatch(const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  ++batches_[outcome];
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP cmln_node_requests_total Encrypted and refused requests by transport and outcome.\n"
    << "# TYPE cmln_node_requests_total counter\n";
  for (const auto& [k, v] : requests_) {
    o << "cmln_node_requests_total{transport=\"" << k.first << "\",outcome=\"" << k.second << "\"} " << v << "\n";
  }
  o << "# HELP cmln_node_request_seconds Latency of successful requests.\n"
    << "# TYPE cmln_node_request_seconds histogram\n";
  for (const auto& [t, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      o << "cmln_node_request_seconds_bucket{transport=\"" << t << "\",le=\"" << kBuckets[i] << "\"} " << h.buckets[i]
        << "\n";
    }
    o << "cmln_node_request_seconds_bucket{transport=\"" << t << "\",le=\"+Inf\"} " << h.count << "\n";
    o << "cmln_node_request_seconds_sum{transport=\"" << t << "\"} " << h.sum << "\n";
    o << "cmln_node_request_seconds_count{transport=\"" << t << "\"} " << h.count << "\n";
  }
  o << "# HELP cmln_node_tokens_total Tokens billed.\n# TYPE cmln_node_tokens_total counter\n"
    << "cmln_node_tokens_total{kind=\"prompt\"} " << prompt_tokens_ << "\n"
    << "cmln_node_tokens_total{kind=\"completion\"} " << completion_tokens_ << "\n";
  o << "# HELP cmln_node_batches_total Usage batches by outcome.\n# TYPE cmln_node_batches_total counter\n";
  for (const auto& [k, v] : batches_) o << "cmln_node_batches_total{outcome=\"" << k << "\"} " << v << "\n";
  o << "# HELP cmln_node_in_flight Encrypted requests being served.\n# TYPE cmln_node_in_flight gauge\n"
    << "cmln_node_in_flight " << in_flight_.load() << "\n";
  return o.str();
}

}  // namespace cmln::node
