#include "node/ledger.h"

#include <cstring>

namespace cmln::node {

// --- ReplayCache ---------------------------------------------------------------------------------

void ReplayCache::EvictExpired(int64_t now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now) {
    auto it = seen_.find(by_expiry_.begin()->second);
    if (it != seen_.end() && it->second == by_expiry_.begin()->first) seen_.erase(it);
    by_expiry_.erase(by_expiry_.begin());
  }
}

Status ReplayCache::Accept(const seal::Digest32& id, int64_t expires_at, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  EvictExpired(now);
  if (seen_.count(id) != 0) return Error(ErrorCode::kReplay, "authorization seen before");
  if (seen_.size() >= max_entries_) {
    return Error(ErrorCode::kLimitExceeded, "replay cache full of unexpired authorizations");
  }
  seen_.emplace(id, expires_at);
  by_expiry_.emplace(expires_at, id);
  return OkStatus();
}

size_t ReplayCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

// --- QuotaLedger ---------------------------------------------------------------------------------

QuotaLedger::QuotaLedger(FetchEscrow fetch, std::chrono::milliseconds cache_ttl, Clock clock)
    : fetch_(std::move(fetch)), ttl_(cache_ttl), clock_(std::move(clock)) {}

Result<QuotaLedger::Reservation> QuotaLedger::Reserve(uint64_t escrow_id, const seal::Digest32& requester_key_hash,
                                                      const std::string& model_id, uint64_t amount) {
  std::optional<EscrowState> view;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = escrows_[escrow_id];
    if (e.view && clock_() - e.fetched < ttl_) view = e.view;
    generation = e.generation;
  }
  if (!view) {
    // Read outside the lock: a slow chain must not stall requests for other escrows.
    auto fetched = fetch_(escrow_id);
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = escrows_[escrow_id];
    if (fetched.ok()) {
      view = *fetched;
      if (e.generation == generation) {
        e.view = view;
        e.fetched = clock_();
      }
    } else if (fetched.error().code() == ErrorCode::kNotFound) {
      return Error(ErrorCode::kNotFound, "escrow " + std::to_string(escrow_id) + " not on chain");
    } else if (e.view) {
      view = e.view;  // D5: the chain is unreachable; the last known state still bounds the quota
    } else {
      return fetched.error().WithContext("escrow " + std::to_string(escrow_id));
    }
  }
  if (!view->open) return Error(ErrorCode::kNotActive, "escrow " + std::to_string(escrow_id) + " not open");
  if (view->model_id != model_id) return Error(ErrorCode::kModelMismatch, "escrow for another model");
  if (!ConstantTimeEqual(view->creator_key_hash, requester_key_hash)) {
    return Error(ErrorCode::kUnauthorized, "requester is not the escrow's creator");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = escrows_[escrow_id];
  const uint64_t committed = e.unsettled + e.in_flight;
  const uint64_t available = view->remaining > committed ? view->remaining - committed : 0;
  if (amount > available) {
    return Error(ErrorCode::kInsufficientFunds, "reservation of " + std::to_string(amount) + " exceeds the available " +
                                                    std::to_string(available));
  }
  e.in_flight += amount;
  return Reservation{escrow_id, amount};
}

void QuotaLedger::Commit(const Reservation& r, uint64_t actual) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = escrows_[r.escrow_id];
  e.in_flight -= std::min(e.in_flight, r.amount);
  e.unsettled += actual;
}

void QuotaLedger::Release(const Reservation& r) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = escrows_[r.escrow_id];
  e.in_flight -= std::min(e.in_flight, r.amount);
}

void QuotaLedger::AddUnsettled(uint64_t escrow_id, uint64_t cost) {
  std::lock_guard<std::mutex> lock(mu_);
  escrows_[escrow_id].unsettled += cost;
}

void QuotaLedger::Settled(uint64_t escrow_id, uint64_t cost) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = escrows_[escrow_id];
  e.unsettled -= std::min(e.unsettled, cost);
  e.view.reset();
  ++e.generation;
}

uint64_t QuotaLedger::unsettled(uint64_t escrow_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = escrows_.find(escrow_id);
  return it == escrows_.end() ? 0 : it->second.unsettled;
}

uint64_t QuotaLedger::in_flight(uint64_t escrow_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = escrows_.find(escrow_id);
  return it == escrows_.end() ? 0 : it->second.in_flight;
}

}  // namespace cmln::node
