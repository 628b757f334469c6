#include "chain/keeper.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "chain/keys.h"
#include "chain/usage_batch.h"
#include "common/byte_reader.h"
#include "seal/crypto.h"
#include "seal/inference_protocol.h"

namespace cmln::chain {

namespace {

std::string U64(uint64_t v) { return std::to_string(v); }

Status Overflow(const char* what) { return Error(ErrorCode::kLimitExceeded, std::string(what) + " overflows uint64"); }

bool AddOk(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

}  // namespace

pb::Params DefaultParams() {
  pb::Params p;
  p.set_epoch_length(20);
  p.set_attestation_ttl_epochs(2);
  p.set_min_escrow_amount(1);
  p.set_max_escrow_amount(1'000'000'000'000'000ULL);
  p.set_settlement_grace_blocks(10);
  p.set_tee_reward_multiplier_bps(kDefaultTeeRewardMultiplierBps);
  p.set_initial_epoch_subsidy(1'000'000'000'000ULL);
  p.set_subsidy_decay_bps(9990);
  p.set_allow_simulated_tee(false);
  p.set_min_tx_fee(0);
  p.set_max_batch_entries(static_cast<uint32_t>(kMaxBatchEntries));
  p.set_max_tx_bytes(1 << 20);
  return p;
}

Status ValidateParams(const pb::Params& p) {
  auto bad = [](const std::string& m) { return Error(ErrorCode::kInvalidArgument, "params: " + m); };
  if (!seal::AccountAddressFromString(p.authority()).ok()) return bad("authority is not a gonka1 address");
  if (p.epoch_length() == 0) return bad("epoch_length must be > 0");
  if (p.attestation_ttl_epochs() == 0) return bad("attestation_ttl_epochs must be > 0");
  if (p.tee_reward_multiplier_bps() < kMinTeeRewardMultiplierBps ||
      p.tee_reward_multiplier_bps() > kMaxTeeRewardMultiplierBps) {
    return bad("tee_reward_multiplier_bps " + U64(p.tee_reward_multiplier_bps()) + " outside 10000..12500");
  }
  if (p.subsidy_decay_bps() > kBasisPoints) return bad("subsidy_decay_bps above 10000");
  if (p.min_escrow_amount() == 0 || p.min_escrow_amount() > p.max_escrow_amount()) {
    return bad("escrow limits: need 0 < min_escrow_amount <= max_escrow_amount");
  }
  if (p.max_batch_entries() == 0 || p.max_batch_entries() > kMaxBatchEntries) {
    return bad("max_batch_entries outside 1..4096");
  }
  if (p.max_tx_bytes() < 1024) return bad("max_tx_bytes below 1024");
  for (int i = 0; i < p.model_prices_size(); ++i) {
    const auto& mp = p.model_prices(i);
    if (mp.model_id().empty()) return bad("model_prices[" + U64(i) + "].model_id empty");
    if (i > 0 && p.model_prices(i - 1).model_id() >= mp.model_id()) {
      return bad("model_prices not sorted by model_id or duplicated at index " + U64(i));
    }
  }
  return OkStatus();
}

Keeper::Keeper(CacheStore* store, const BlockContext& ctx, EventSink* events, const AttestationVerifier* verifier)
    : store_(store), ctx_(ctx), events_(events), verifier_(verifier) {}

template <typename M>
std::optional<M> Keeper::Load(const std::string& key) const {
  auto v = store_->Get(key);
  if (!v) return std::nullopt;
  M m;
  if (!m.ParseFromString(*v)) return std::nullopt;  // state is written only by us; cannot happen
  return m;
}

template <typename M>
void Keeper::Store(const std::string& key, const M& m) {
  std::string out;
  m.SerializeToString(&out);
  store_->Set(key, std::move(out));
}

pb::Params Keeper::GetParams() const { return Load<pb::Params>(std::string(keys::kParams)).value_or(DefaultParams()); }
pb::ChainMeta Keeper::GetMeta() const { return Load<pb::ChainMeta>(std::string(keys::kMeta)).value_or(pb::ChainMeta()); }
pb::Supply Keeper::GetSupply() const { return Load<pb::Supply>(std::string(keys::kSupply)).value_or(pb::Supply()); }
std::optional<pb::Account> Keeper::GetAccount(const std::string& a) const { return Load<pb::Account>(keys::Account(a)); }
std::optional<pb::Escrow> Keeper::GetEscrow(uint64_t id) const { return Load<pb::Escrow>(keys::Escrow(id)); }
std::optional<pb::TeeAttestation> Keeper::GetAttestation(const std::string& n) const {
  return Load<pb::TeeAttestation>(keys::Attestation(n));
}
std::optional<pb::ReleaseRecord> Keeper::GetRelease(const std::string& id) const {
  return Load<pb::ReleaseRecord>(keys::Release(id));
}
std::optional<pb::EpochInfo> Keeper::GetEpoch(uint64_t n) const { return Load<pb::EpochInfo>(keys::Epoch(n)); }
uint64_t Keeper::Balance(const std::string& a) const {
  auto acc = GetAccount(a);
  return acc ? acc->balance() : 0;
}

// --- mutators ------------------------------------------------------------------------------------

Status Keeper::Debit(const std::string& address, uint64_t amount) {
  auto acc = GetAccount(address);
  uint64_t have = acc ? acc->balance() : 0;
  if (have < amount) {
    return Error(ErrorCode::kInsufficientFunds,
                 "account " + address + " has " + U64(have) + " ngonka, needs " + U64(amount));
  }
  acc->set_balance(have - amount);
  Store(keys::Account(address), *acc);
  return OkStatus();
}

Status Keeper::Credit(const std::string& address, uint64_t amount) {
  pb::Account acc = GetAccount(address).value_or(pb::Account());
  acc.set_address(address);
  uint64_t sum = 0;
  if (!AddOk(acc.balance(), amount, &sum)) return Overflow("balance");
  acc.set_balance(sum);
  Store(keys::Account(address), acc);
  return OkStatus();
}

Result<uint64_t> Keeper::LockEscrow(const std::string& creator, const Bytes& creator_key_hash, uint64_t amount,
                                    const std::string& model_id) {
  CMLN_TRY(Debit(creator, amount));
  pb::ChainMeta meta = GetMeta();
  uint64_t id = meta.next_escrow_id() == 0 ? 1 : meta.next_escrow_id();
  meta.set_next_escrow_id(id + 1);
  Store(std::string(keys::kMeta), meta);
  pb::Escrow e;
  e.set_id(id);
  e.set_creator(creator);
  e.set_model_id(model_id);
  e.set_amount(amount);
  e.set_remaining(amount);
  e.set_created_height(ctx_.height);
  e.set_created_epoch(meta.current_epoch());
  e.set_status(pb::ESCROW_STATUS_OPEN);
  e.set_creator_key_hash(creator_key_hash.data(), creator_key_hash.size());
  Store(keys::Escrow(id), e);
  pb::Supply s = GetSupply();
  s.set_escrowed(s.escrowed() + amount);
  s.set_total_escrow_created(s.total_escrow_created() + amount);
  Store(std::string(keys::kSupply), s);
  events_->Emit(event::kEscrowCreated,
                {{"escrow_id", U64(id)}, {"creator", creator}, {"model_id", model_id}, {"amount", U64(amount)}});
  return id;
}

Result<uint64_t> Keeper::PayFromEscrows(std::vector<pb::Escrow>& escrows, const std::vector<uint64_t>& costs,
                                        const std::string& host, const std::string& node_id, uint64_t batch_seq) {
  uint64_t total_cost = 0, total_paid = 0;
  for (size_t i = 0; i < escrows.size(); ++i) {
    pb::Escrow& escrow = escrows[i];
    const uint64_t paid = std::min(costs[i], escrow.remaining());
    escrow.set_remaining(escrow.remaining() - paid);
    escrow.set_settled(escrow.settled() + paid);
    Store(keys::Escrow(escrow.id()), escrow);
    // Sums of paid amounts are bounded by the escrowed supply (a uint64); costs saturate.
    total_paid += paid;
    total_cost = costs[i] > UINT64_MAX - total_cost ? UINT64_MAX : total_cost + costs[i];
  }
  pb::Earnings earn = Load<pb::Earnings>(keys::Earnings(host)).value_or(pb::Earnings());
  earn.set_address(host);
  earn.set_pending(earn.pending() + total_paid);
  Store(keys::Earnings(host), earn);
  pb::Supply s = GetSupply();
  s.set_escrowed(s.escrowed() - total_paid);
  s.set_pending_earnings(s.pending_earnings() + total_paid);
  s.set_total_settled(s.total_settled() + total_paid);
  Store(std::string(keys::kSupply), s);
  events_->Emit(event::kUsageSettled, {{"node_id", node_id},
                                       {"batch_seq", U64(batch_seq)},
                                       {"host", host},
                                       {"entries", U64(escrows.size())},
                                       {"cost", U64(total_cost)},
                                       {"paid", U64(total_paid)}});
  return total_paid;
}

Status Keeper::CloseEscrow(pb::Escrow& escrow) {
  const pb::Params p = GetParams();
  escrow.set_status(pb::ESCROW_STATUS_CLOSED);
  escrow.set_closed_height(ctx_.height);
  escrow.set_refund_height(ctx_.height + p.settlement_grace_blocks() + 1);
  Store(keys::Escrow(escrow.id()), escrow);
  store_->Set(keys::RefundQueue(escrow.refund_height(), escrow.id()), "");
  events_->Emit(event::kEscrowClosed, {{"escrow_id", U64(escrow.id())}, {"refund_height", U64(escrow.refund_height())}});
  return OkStatus();
}

Status Keeper::RefundEscrow(uint64_t escrow_id) {
  auto e = GetEscrow(escrow_id);
  if (!e) return Error(ErrorCode::kInternal, "refund of missing escrow " + U64(escrow_id));
  if (e->status() != pb::ESCROW_STATUS_CLOSED) {
    return Error(ErrorCode::kInternal, "refund of escrow " + U64(escrow_id) + " that is not closed");
  }
  uint64_t amount = e->remaining();
  e->set_remaining(0);
  e->set_refunded(amount);
  e->set_status(pb::ESCROW_STATUS_REFUNDED);
  Store(keys::Escrow(escrow_id), *e);
  CMLN_TRY(Credit(e->creator(), amount));
  pb::Supply s = GetSupply();
  s.set_escrowed(s.escrowed() - amount);
  s.set_total_refunded(s.total_refunded() + amount);
  Store(std::string(keys::kSupply), s);
  events_->Emit(event::kEscrowRefunded,
                {{"escrow_id", U64(escrow_id)}, {"creator", e->creator()}, {"amount", U64(amount)}});
  return OkStatus();
}

Status Keeper::PayEarnings(const std::string& address, uint64_t epoch) {
  auto earn = Load<pb::Earnings>(keys::Earnings(address));
  if (!earn || earn->pending() == 0) return OkStatus();
  uint64_t amount = earn->pending();
  store_->Delete(keys::Earnings(address));
  CMLN_TRY(Credit(address, amount));
  pb::Supply s = GetSupply();
  s.set_pending_earnings(s.pending_earnings() - amount);
  s.set_total_paid_out(s.total_paid_out() + amount);
  Store(std::string(keys::kSupply), s);
  events_->Emit(event::kHostPaid, {{"address", address}, {"amount", U64(amount)}, {"epoch", U64(epoch)}});
  return OkStatus();
}

Status Keeper::Mint(const std::string& address, uint64_t amount, uint64_t epoch, bool tee_bonus) {
  if (amount == 0) return OkStatus();
  CMLN_TRY(Credit(address, amount));
  pb::Supply s = GetSupply();
  uint64_t minted = 0;
  if (!AddOk(s.minted(), amount, &minted)) return Overflow("minted supply");
  s.set_minted(minted);
  Store(std::string(keys::kSupply), s);
  events_->Emit(event::kSubsidyPaid, {{"address", address},
                                      {"amount", U64(amount)},
                                      {"epoch", U64(epoch)},
                                      {"tee_bonus", tee_bonus ? "true" : "false"}});
  return OkStatus();
}

// --- ante ----------------------------------------------------------------------------------------

Status Keeper::ConsumeFeeAndSequence(const std::string& signer, const seal::AccountPublicKey& public_key,
                                     uint64_t sequence, uint64_t fee) {
  auto acc = GetAccount(signer);
  if (!acc) return Error(ErrorCode::kNotFound, "signer account " + signer + " does not exist");
  if (sequence < acc->sequence()) {
    return Error(ErrorCode::kReplay, "sequence " + U64(sequence) + " already used (expected " + U64(acc->sequence()) + ")");
  }
  if (sequence > acc->sequence()) {
    return Error(ErrorCode::kSequenceMismatch,
                 "sequence " + U64(sequence) + " is ahead of the account (expected " + U64(acc->sequence()) + ")");
  }
  const pb::Params p = GetParams();
  if (fee < p.min_tx_fee()) {
    return Error(ErrorCode::kInsufficientFee, "fee " + U64(fee) + " below minimum " + U64(p.min_tx_fee()));
  }
  if (fee > 0) {
    CMLN_TRY(Debit(signer, fee));
    CMLN_TRY(Credit(ctx_.proposer, fee));
    events_->Emit(event::kFee, {{"payer", signer}, {"recipient", ctx_.proposer}, {"amount", U64(fee)}});
  }
  pb::Account a = *GetAccount(signer);
  a.set_sequence(a.sequence() + 1);
  a.set_public_key(public_key.data(), public_key.size());
  Store(keys::Account(signer), a);
  return OkStatus();
}

// --- handlers --------------------------------------------------------------------------------------

Status Keeper::RequireAuthority(const std::string& signer) const {
  if (signer != GetParams().authority()) {
    return Error(ErrorCode::kUnauthorized, "signer " + signer + " is not the governance authority");
  }
  return OkStatus();
}

Status Keeper::Send(const pb::MsgSend& m) {
  CMLN_TRY(Debit(m.from_address(), m.amount()));
  CMLN_TRY(Credit(m.to_address(), m.amount()));
  events_->Emit(event::kTransfer,
                {{"sender", m.from_address()}, {"recipient", m.to_address()}, {"amount", U64(m.amount())}});
  return OkStatus();
}

Status Keeper::RegisterRelease(const pb::MsgRegisterRelease& m) {
  CMLN_TRY(RequireAuthority(m.authority()));
  const pb::Release& r = m.release();
  if (GetRelease(r.release_id())) {
    return Error(ErrorCode::kAlreadyExists, "release " + r.release_id() + " already registered");
  }
  pb::ReleaseRecord rec;
  *rec.mutable_release() = r;
  rec.set_registered_height(ctx_.height);
  Store(keys::Release(r.release_id()), rec);
  events_->Emit(event::kReleaseRegistered,
                {{"release_id", r.release_id()}, {"model_id", r.model_id()}, {"platform", r.platform()}});
  return OkStatus();
}

Status Keeper::RetireRelease(const pb::MsgRetireRelease& m) {
  CMLN_TRY(RequireAuthority(m.authority()));
  auto rec = GetRelease(m.release_id());
  if (!rec) return Error(ErrorCode::kNotFound, "release " + m.release_id() + " not registered");
  if (rec->retired()) return Error(ErrorCode::kNotActive, "release " + m.release_id() + " already retired");
  rec->set_retired(true);
  rec->set_retired_height(ctx_.height);
  Store(keys::Release(m.release_id()), *rec);
  events_->Emit(event::kReleaseRetired, {{"release_id", m.release_id()}});
  return OkStatus();
}

Status Keeper::UpdateParams(const pb::MsgUpdateParams& m) {
  CMLN_TRY(RequireAuthority(m.authority()));
  CMLN_TRY(ValidateParams(m.params()));
  Store(std::string(keys::kParams), m.params());
  events_->Emit(event::kParamsUpdated, {{"authority", m.params().authority()}});
  return OkStatus();
}

TrustSettings Keeper::Trust() const {
  TrustSettings t;
  t.allow_simulated_tee = GetParams().allow_simulated_tee();
  t.roots_json = GetMeta().trust_settings();
  return t;
}

Status Keeper::SubmitCollateral(const pb::MsgSubmitCollateral& m) {
  if (verifier_ == nullptr) return Error(ErrorCode::kUnsupported, "no attestation verifier configured");
  CMLN_ASSIGN_OR_RETURN(VerifiedCollateral vc,
                        verifier_->VerifyCollateral(m.platform(), AsBytes(m.collateral()), Trust(), ctx_.time));
  const std::string key = keys::Collateral(m.platform(), vc.kind, vc.id);
  auto existing = Load<pb::CollateralRecord>(key);
  if (existing && existing->issue_time() >= vc.issue_time) {
    return Error(ErrorCode::kAlreadyExists, "collateral " + m.platform() + "/" + vc.kind + "/" + vc.id +
                                                " is not newer than the stored one");
  }
  pb::CollateralRecord rec;
  rec.set_platform(m.platform());
  rec.set_kind(vc.kind);
  rec.set_id(vc.id);
  rec.set_collateral(m.collateral());
  rec.set_issue_time(vc.issue_time);
  rec.set_next_update(vc.next_update);
  rec.set_submitted_height(ctx_.height);
  Store(key, rec);
  events_->Emit(event::kCollateralStored, {{"platform", m.platform()},
                                           {"kind", vc.kind},
                                           {"id", vc.id},
                                           {"next_update", std::to_string(vc.next_update)}});
  return OkStatus();
}

bool Keeper::ReleaseActive(const pb::ReleaseRecord& r, uint64_t epoch) const {
  if (r.retired()) return false;
  if (epoch < r.release().not_before_epoch()) return false;
  if (r.release().not_after_epoch() != 0 && epoch > r.release().not_after_epoch()) return false;
  return true;
}

std::vector<ReleaseInput> Keeper::ActiveReleasesForModel(const std::string& model_id, uint64_t epoch) const {
  std::vector<ReleaseInput> out;
  store_->Scan(keys::kRelease, [&](const std::string&, const std::string& v) {
    pb::ReleaseRecord r;
    if (r.ParseFromString(v) && r.release().model_id() == model_id && ReleaseActive(r, epoch)) {
      ReleaseInput in;
      in.release_id = r.release().release_id();
      in.platform = r.release().platform();
      for (const auto& ms : r.release().measurements()) in.measurements[ms.name()] = ToBytes(ms.value());
      in.model_id = r.release().model_id();
      in.model_digest = ToBytes(r.release().model_digest());
      in.gpu_policy = r.release().gpu_policy();
      out.push_back(std::move(in));
    }
    return true;
  });
  return out;
}

Result<std::vector<CollateralInput>> Keeper::FreshCollateral(const std::string& platform) const {
  std::vector<CollateralInput> out;
  size_t stale = 0;
  store_->Scan(keys::CollateralPrefix(platform), [&](const std::string&, const std::string& v) {
    pb::CollateralRecord r;
    if (!r.ParseFromString(v)) return true;
    if (r.next_update() < ctx_.time) {
      ++stale;
      return true;
    }
    out.push_back(CollateralInput{r.platform(), r.kind(), r.id(), ToBytes(r.collateral())});
    return true;
  });
  if (stale > 0) {
    return Error(ErrorCode::kCollateralExpired, "collateral for platform " + platform + ": " + U64(stale) +
                                                    " record(s) past nextUpdate at block time " +
                                                    std::to_string(ctx_.time) + "; submit fresh collateral");
  }
  if (out.empty()) {
    return Error(ErrorCode::kNotFound, "no collateral recorded for platform " + platform);
  }
  return out;
}

Status Keeper::ApplyAttestationPolicy(const pb::MsgSubmitTeeAttestation& m, const VerifiedBundle& v,
                                      const pb::ReleaseRecord& release) const {
  const pb::Params p = GetParams();
  if (v.simulated && !p.allow_simulated_tee()) {
    return Error(ErrorCode::kSimulatedNotAllowed, "simulated evidence (" + v.platform + ") but allow_simulated_tee is false");
  }
  if (v.debug) return Error(ErrorCode::kDebugEnabled, "evidence is from a debug guest (" + v.platform + ")");
  // The binding the chain expects: this chain, the current epoch and its nonce, the submitting participant.
  const pb::ChainMeta meta = GetMeta();
  auto epoch = GetEpoch(meta.current_epoch());
  AttestationBinding want{meta.chain_id(), meta.current_epoch(), epoch ? ToBytes(epoch->nonce()) : Bytes{},
                          m.participant(), m.node_id()};
  std::string mismatches;
  auto field = [&](const char* name, const std::string& seen, const std::string& wanted) {
    if (seen != wanted) mismatches += std::string(mismatches.empty() ? "" : "; ") + name + " " + seen + " != " + wanted;
  };
  field("chain_id", v.binding.chain_id, want.chain_id);
  field("epoch", U64(v.binding.epoch), U64(want.epoch));
  field("epoch_nonce", HexEncode(v.binding.epoch_nonce), HexEncode(want.epoch_nonce));
  field("participant", v.binding.participant, want.participant);
  field("node_id", v.binding.node_id, want.node_id);
  if (!mismatches.empty()) return Error(ErrorCode::kBindingMismatch, "report data binding: " + mismatches);

  const pb::Release& r = release.release();
  if (!ReleaseActive(release, meta.current_epoch())) {
    return Error(ErrorCode::kNotActive, "release " + r.release_id() + " is retired or outside its epochs");
  }
  if (r.model_id() != m.model_id() || v.model_id != m.model_id()) {
    return Error(ErrorCode::kModelMismatch, "model " + m.model_id() + " but release " + r.release_id() + " is for " +
                                                r.model_id() + " and the bundle claims " + v.model_id);
  }
  if (ToBytes(r.model_digest()) != v.model_digest) {
    return Error(ErrorCode::kModelMismatch, "model_digest " + HexEncode(v.model_digest) + " != release's " +
                                                HexEncode(AsBytes(r.model_digest())));
  }
  std::string bad;
  if (r.platform() != v.platform) bad += "platform " + v.platform + " != " + r.platform();
  for (const auto& ms : r.measurements()) {
    auto it = v.measurements.find(ms.name());
    std::string seen = it == v.measurements.end() ? "(absent)" : HexEncode(it->second);
    if (it == v.measurements.end() || it->second != ToBytes(ms.value())) {
      bad += std::string(bad.empty() ? "" : "; ") + ms.name() + " " + seen + " != " + HexEncode(AsBytes(ms.value()));
    }
  }
  if (!bad.empty()) return Error(ErrorCode::kMeasurementNotApproved, "release " + r.release_id() + ": " + bad);
  attest::TcbStatus min_tcb = attest::TcbStatus::kUpToDate;
  if (!r.min_tcb().empty() && !attest::ParseTcbStatus(r.min_tcb(), &min_tcb)) {
    return Error(ErrorCode::kInternal, "release " + r.release_id() + " has unknown min_tcb " + r.min_tcb());
  }
  if (attest::TcbRank(v.tcb_status) > attest::TcbRank(min_tcb)) {
    return Error(ErrorCode::kTcbBelowMinimum, std::string("tcb_status ") + attest::TcbStatusName(v.tcb_status) +
                                                  " below release minimum " + r.min_tcb());
  }
  if (v.sign_public_key.size() != seal::kEd25519PublicKeySize) {
    return Error(ErrorCode::kInvalidKey, "sign_pk is " + U64(v.sign_public_key.size()) + " bytes, want 32");
  }
  return OkStatus();
}

void Keeper::SetAttestationStatus(pb::TeeAttestation& a, pb::AttestationStatus status, const std::string& reason) {
  a.set_status(status);
  a.set_status_height(ctx_.height);
  a.set_status_reason(reason);
}

Status Keeper::SubmitTeeAttestation(const pb::MsgSubmitTeeAttestation& m) {
  if (verifier_ == nullptr) return Error(ErrorCode::kUnsupported, "no attestation verifier configured");
  if (!Load<pb::Participant>(keys::Participant(m.participant()))) {
    return Error(ErrorCode::kUnauthorized, m.participant() + " is not a registered participant");
  }
  auto previous = GetAttestation(m.node_id());
  if (previous && previous->participant() != m.participant()) {
    return Error(ErrorCode::kUnauthorized, "node_id " + m.node_id() + " belongs to participant " + previous->participant());
  }
  // The platform decides which collateral the chain hands over; the verifier confirms it.
  auto doc = nlohmann::json::parse(m.bundle(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("platform") || !doc["platform"].is_string()) {
    return Error(ErrorCode::kMalformed, "bundle: not a JSON object with a string \"platform\"");
  }
  const std::string platform = doc["platform"].get<std::string>();
  const pb::Params p = GetParams();
  if (platform.rfind("sim-", 0) == 0 && !p.allow_simulated_tee()) {
    return Error(ErrorCode::kSimulatedNotAllowed, "simulated platform " + platform + " but allow_simulated_tee is false");
  }
  CMLN_ASSIGN_OR_RETURN(std::vector<CollateralInput> collateral, FreshCollateral(platform));
  const uint64_t epoch = GetMeta().current_epoch();
  CMLN_ASSIGN_OR_RETURN(VerifiedBundle v, verifier_->VerifyBundle(AsBytes(m.bundle()), Trust(), collateral,
                                                                  ActiveReleasesForModel(m.model_id(), epoch), ctx_.time));
  if (v.platform != platform) {
    return Error(ErrorCode::kMalformed, "bundle platform " + platform + " but evidence is " + v.platform);
  }
  auto release = GetRelease(v.release_id);
  if (!release) {
    return Error(ErrorCode::kMeasurementNotApproved, "bundle names release " + v.release_id + ", which is not registered");
  }
  CMLN_TRY(ApplyAttestationPolicy(m, v, *release));

  pb::TeeAttestation a;
  a.set_node_id(m.node_id());
  a.set_participant(m.participant());
  a.set_model_id(m.model_id());
  a.set_endpoint(m.endpoint());
  a.set_release_id(v.release_id);
  a.set_platform(v.platform);
  a.set_simulated(v.simulated);
  a.set_sign_public_key(v.sign_public_key.data(), v.sign_public_key.size());
  a.set_ohttp_key_config(v.ohttp_key_config.data(), v.ohttp_key_config.size());
  a.set_tcb_status(attest::TcbStatusName(v.tcb_status));
  for (const auto& id : v.advisory_ids) a.add_advisory_ids(id);
  for (const auto& [name, value] : v.measurements) {
    auto* ms = a.add_measurements();
    ms->set_name(name);
    ms->set_value(value.data(), value.size());
  }
  a.set_bundle(m.bundle());
  seal::Digest32 bh = seal::Sha256(AsBytes(m.bundle()));
  a.set_bundle_hash(bh.data(), bh.size());
  a.set_attested_height(ctx_.height);
  a.set_attested_epoch(epoch);
  a.set_expires_after_epoch(epoch + p.attestation_ttl_epochs() - 1);
  a.set_continuous_since_height(ctx_.height);
  SetAttestationStatus(a, pb::ATTESTATION_STATUS_VERIFIED, "");
  if (previous) {
    a.set_last_batch_seq(previous->last_batch_seq());
    if (previous->status() == pb::ATTESTATION_STATUS_VERIFIED) {
      // A re-attestation of a running node keeps its continuity, and its old key may still settle
      // usage signed before the restart for one grace window.
      a.set_continuous_since_height(previous->continuous_since_height());
      a.set_previous_sign_public_key(previous->sign_public_key());
      a.set_previous_key_valid_until(ctx_.height + p.settlement_grace_blocks());
      events_->Emit(event::kAttestationSuperseded, {{"node_id", m.node_id()}, {"bundle_hash", HexEncode(AsBytes(previous->bundle_hash()))}});
    }
  }
  Store(keys::Attestation(m.node_id()), a);
  events_->Emit(event::kAttestationVerified, {{"node_id", m.node_id()},
                                              {"participant", m.participant()},
                                              {"model_id", m.model_id()},
                                              {"release_id", v.release_id},
                                              {"platform", v.platform},
                                              {"simulated", v.simulated ? "true" : "false"},
                                              {"tcb_status", a.tcb_status()},
                                              {"expires_after_epoch", U64(a.expires_after_epoch())}});
  return OkStatus();
}

Status Keeper::RevokeTeeAttestation(const pb::MsgRevokeTeeAttestation& m) {
  auto a = GetAttestation(m.node_id());
  if (!a) return Error(ErrorCode::kNotFound, "no attestation for node " + m.node_id());
  if (m.signer() != GetParams().authority() && m.signer() != a->participant()) {
    return Error(ErrorCode::kUnauthorized, m.signer() + " is neither the authority nor the node's participant");
  }
  if (a->status() == pb::ATTESTATION_STATUS_REVOKED) {
    return Error(ErrorCode::kAttestationRevoked, "attestation of node " + m.node_id() + " already revoked");
  }
  SetAttestationStatus(*a, pb::ATTESTATION_STATUS_REVOKED, m.reason());
  a->clear_previous_sign_public_key();  // a revoked node's keys settle nothing, old or new
  a->set_previous_key_valid_until(0);
  Store(keys::Attestation(m.node_id()), *a);
  events_->Emit(event::kAttestationRevoked, {{"node_id", m.node_id()}, {"reason", m.reason()}, {"by", m.signer()}});
  return OkStatus();
}

Result<uint64_t> Keeper::CreateConfidentialEscrow(const pb::MsgCreateConfidentialEscrow& m) {
  const pb::Params p = GetParams();
  if (m.amount() < p.min_escrow_amount() || m.amount() > p.max_escrow_amount()) {
    return Error(ErrorCode::kLimitExceeded, "escrow amount " + U64(m.amount()) + " outside " +
                                                U64(p.min_escrow_amount()) + ".." + U64(p.max_escrow_amount()));
  }
  bool priced = std::any_of(p.model_prices().begin(), p.model_prices().end(),
                            [&](const pb::ModelPrice& mp) { return mp.model_id() == m.model_id(); });
  if (!priced) return Error(ErrorCode::kNotFound, "model " + m.model_id() + " has no price");
  auto acc = GetAccount(m.creator());
  if (!acc || acc->public_key().empty()) {
    return Error(ErrorCode::kNotFound, "creator " + m.creator() + " has no public key on chain");
  }
  return LockEscrow(m.creator(), ToBytes(seal::RequesterKeyHash(AsBytes(acc->public_key()))), m.amount(), m.model_id());
}

Status Keeper::SettleConfidentialUsage(const pb::MsgSettleConfidentialUsage& m) {
  CMLN_ASSIGN_OR_RETURN(UsageBatch batch, DecodeUsageBatch(AsBytes(m.batch())));
  const pb::Params p = GetParams();
  const pb::ChainMeta meta = GetMeta();
  if (batch.chain_id != meta.chain_id()) {
    return Error(ErrorCode::kBindingMismatch, "batch for chain " + batch.chain_id + ", this is " + meta.chain_id());
  }
  if (batch.entries.size() > p.max_batch_entries()) {
    return Error(ErrorCode::kLimitExceeded, "batch has " + U64(batch.entries.size()) + " entries, max " +
                                                U64(p.max_batch_entries()));
  }
  auto att = GetAttestation(batch.node_id);
  if (!att) return Error(ErrorCode::kNotFound, "node " + batch.node_id + " has no registered TEE key");
  if (att->status() == pb::ATTESTATION_STATUS_REVOKED) {
    return Error(ErrorCode::kAttestationRevoked, "node " + batch.node_id + "'s attestation is revoked");
  }
  if (att->status() == pb::ATTESTATION_STATUS_EXPIRED &&
      ctx_.height > att->status_height() + p.settlement_grace_blocks()) {
    return Error(ErrorCode::kAttestationExpired, "node " + batch.node_id + "'s attestation expired at height " +
                                                     U64(att->status_height()) + " and its grace window ended");
  }
  Status sig = VerifyUsageBatch(AsBytes(att->sign_public_key()), AsBytes(m.batch()), AsBytes(m.signature()));
  if (!sig.ok() && !att->previous_sign_public_key().empty() && ctx_.height <= att->previous_key_valid_until()) {
    sig = VerifyUsageBatch(AsBytes(att->previous_sign_public_key()), AsBytes(m.batch()), AsBytes(m.signature()));
  }
  if (!sig.ok()) {
    return Error(ErrorCode::kBadSignature, "usage batch of node " + batch.node_id + " is not signed by its TEE key");
  }
  if (batch.batch_seq <= att->last_batch_seq()) {
    return Error(ErrorCode::kReplay, "batch_seq " + U64(batch.batch_seq) + " already settled (last " +
                                         U64(att->last_batch_seq()) + ")");
  }
  if (batch.batch_seq != att->last_batch_seq() + 1) {
    return Error(ErrorCode::kSequenceMismatch, "batch_seq " + U64(batch.batch_seq) + " leaves a gap (want " +
                                                   U64(att->last_batch_seq() + 1) + ")");
  }
  // All checks for every entry first, so a batch is settled completely or not at all.
  std::vector<pb::Escrow> escrows;
  escrows.reserve(batch.entries.size());
  RequestersDigest requesters;  // over each escrow's on-chain creator key hash, in batch order
  for (const UsageEntry& e : batch.entries) {
    auto esc = GetEscrow(e.escrow_id);
    if (!esc) return Error(ErrorCode::kNotFound, "escrow " + U64(e.escrow_id) + " does not exist");
    if (esc->model_id() != att->model_id()) {
      return Error(ErrorCode::kModelMismatch, "escrow " + U64(e.escrow_id) + " is for model " + esc->model_id() +
                                                  ", node " + batch.node_id + " serves " + att->model_id());
    }
    requesters.Add(e.escrow_id, AsBytes(esc->creator_key_hash()));
    if (esc->status() == pb::ESCROW_STATUS_REFUNDED ||
        (esc->status() == pb::ESCROW_STATUS_CLOSED && ctx_.height >= esc->refund_height())) {
      return Error(ErrorCode::kNotActive, "escrow " + U64(e.escrow_id) + " closed and its grace window ended");
    }
    escrows.push_back(*esc);
  }
  // C8: the node signed the requester key it saw for every escrow; if any differs from the creator's
  // on-chain key the digest differs and the whole batch is refused (the entry cannot be named).
  if (!ConstantTimeEqual(requesters.Finish(), batch.requesters_digest)) {
    return Error(ErrorCode::kRequesterMismatch, "batch " + U64(batch.batch_seq) + " of node " + batch.node_id +
                                                    ": requesters_digest does not match the escrows' creator keys");
  }
  bool served = false;
  std::vector<uint64_t> costs;
  costs.reserve(batch.entries.size());
  for (const UsageEntry& e : batch.entries) {
    costs.push_back(e.cost);
    served = served || e.requests > 0;
  }
  CMLN_ASSIGN_OR_RETURN(uint64_t paid, PayFromEscrows(escrows, costs, att->participant(), batch.node_id, batch.batch_seq));
  served = served || paid > 0;
  if (served) store_->Set(keys::Served(meta.current_epoch(), att->participant()), "");
  att->set_last_batch_seq(batch.batch_seq);
  Store(keys::Attestation(batch.node_id), *att);
  return OkStatus();
}

// --- block phases ----------------------------------------------------------------------------------

Status Keeper::EndBlock() {
  // Refunds due at or before this height, in (height, escrow id) order.
  std::vector<std::string> due;
  store_->Scan(keys::kRefundQueue, [&](const std::string& k, const std::string&) {
    uint64_t h = keys::ParseU64Key(std::string_view(k).substr(keys::kRefundQueue.size(), 8));
    if (h > ctx_.height) return false;
    due.push_back(k);
    return true;
  });
  for (const std::string& k : due) {
    uint64_t id = keys::ParseU64Key(std::string_view(k).substr(keys::kRefundQueue.size() + 8, 8));
    store_->Delete(k);
    CMLN_TRY(RefundEscrow(id));
  }
  const pb::Params p = GetParams();
  if (ctx_.height % p.epoch_length() == 0) CMLN_TRY(EpochBoundary());
  return OkStatus();
}

Status Keeper::EpochBoundary() {
  const pb::Params p = GetParams();
  pb::ChainMeta meta = GetMeta();
  const uint64_t e = meta.current_epoch();
  pb::EpochInfo info = GetEpoch(e).value_or(pb::EpochInfo());
  info.set_number(e);
  info.set_end_height(ctx_.height);

  // 1. Open escrows stop accepting new requests; their remainder is refunded after the grace window.
  std::vector<pb::Escrow> open;
  store_->Scan(keys::kEscrow, [&](const std::string&, const std::string& v) {
    pb::Escrow esc;
    if (esc.ParseFromString(v) && esc.status() == pb::ESCROW_STATUS_OPEN) open.push_back(esc);
    return true;
  });
  for (auto& esc : open) CMLN_TRY(CloseEscrow(esc));

  // 2. Host earnings of the epoch are paid.
  std::vector<std::string> earners;
  store_->Scan(keys::kEarnings, [&](const std::string& k, const std::string&) {
    earners.push_back(k.substr(keys::kEarnings.size()));
    return true;
  });
  uint64_t payouts = 0;
  for (const auto& addr : earners) {
    auto earn = Load<pb::Earnings>(keys::Earnings(addr));
    if (earn) payouts += earn->pending();
    CMLN_TRY(PayEarnings(addr, e));
  }
  info.set_host_payouts(payouts);

  // 3. Subsidy split by weight. A participant's weight is multiplied by tee_reward_multiplier_bps when
  // one of its nodes was attested (VERIFIED, unexpired) for the whole epoch and it served traffic.
  std::map<std::string, bool> bonus;
  store_->Scan(keys::kAttestation, [&](const std::string&, const std::string& v) {
    pb::TeeAttestation a;
    if (a.ParseFromString(v) && a.status() == pb::ATTESTATION_STATUS_VERIFIED &&
        a.continuous_since_height() <= info.start_height() && a.expires_after_epoch() >= e) {
      bonus[a.participant()] = true;
    }
    return true;
  });
  struct Share {
    std::string address;
    uint64_t weight;
    Uint128 effective;
    bool tee;
  };
  std::vector<Share> shares;
  Uint128 total = 0;
  store_->Scan(keys::kParticipant, [&](const std::string&, const std::string& v) {
    pb::Participant part;
    if (!part.ParseFromString(v)) return true;
    bool tee = bonus.count(part.address()) != 0 && store_->Get(keys::Served(e, part.address())).has_value();
    Uint128 eff = static_cast<Uint128>(part.weight()) *
                            (tee ? p.tee_reward_multiplier_bps() : kBasisPoints);
    shares.push_back(Share{part.address(), part.weight(), eff, tee});
    total += eff;
    return true;
  });
  const uint64_t budget = meta.next_subsidy();
  info.set_subsidy_budget(budget);
  uint64_t minted = 0;
  for (const Share& s : shares) {
    uint64_t amount = total == 0 ? 0 : static_cast<uint64_t>(static_cast<Uint128>(budget) * s.effective / total);
    CMLN_TRY(Mint(s.address, amount, e, s.tee));
    minted += amount;
    auto* r = info.add_rewards();
    r->set_address(s.address);
    r->set_weight(s.weight);
    r->set_effective_weight(static_cast<uint64_t>(s.effective));
    r->set_subsidy(amount);
    r->set_tee_bonus(s.tee);
  }
  info.set_subsidy_minted(minted);

  // 4. Re-evaluation against the newest collateral (revoked platform keys, TCB below the release's
  // minimum, retired release), then expiry of attestations whose TTL ends with this epoch.
  std::vector<pb::TeeAttestation> atts;
  store_->Scan(keys::kAttestation, [&](const std::string&, const std::string& v) {
    pb::TeeAttestation a;
    if (a.ParseFromString(v) && a.status() == pb::ATTESTATION_STATUS_VERIFIED) atts.push_back(a);
    return true;
  });
  for (auto& a : atts) {
    std::string revoke_reason;
    auto rel = GetRelease(a.release_id());
    if (!rel || !ReleaseActive(*rel, e + 1)) {
      revoke_reason = "release " + a.release_id() + " no longer active";
    } else if (verifier_ != nullptr) {
      auto coll = FreshCollateral(a.platform());
      if (coll.ok()) {
        auto v = verifier_->VerifyBundle(AsBytes(a.bundle()), Trust(), *coll, ActiveReleasesForModel(a.model_id(), e),
                                         ctx_.time);
        attest::TcbStatus min_tcb = attest::TcbStatus::kUpToDate;
        if (!v.ok() && (v.error().code() == ErrorCode::kCertRevoked)) {
          revoke_reason = "re-evaluation: " + v.error().message();
        } else if (v.ok() && attest::ParseTcbStatus(rel->release().min_tcb().empty() ? "UpToDate" : rel->release().min_tcb(), &min_tcb) &&
                   attest::TcbRank(v->tcb_status) > attest::TcbRank(min_tcb)) {
          revoke_reason = std::string("re-evaluation: tcb_status ") + attest::TcbStatusName(v->tcb_status) +
                          " below release minimum " + rel->release().min_tcb();
        }
        // Other failures (e.g. collateral not yet refreshed) keep the record; it expires by TTL.
      }
    }
    if (!revoke_reason.empty()) {
      SetAttestationStatus(a, pb::ATTESTATION_STATUS_REVOKED, revoke_reason);
      a.clear_previous_sign_public_key();
      a.set_previous_key_valid_until(0);
      Store(keys::Attestation(a.node_id()), a);
      events_->Emit(event::kAttestationRevoked, {{"node_id", a.node_id()}, {"reason", revoke_reason}, {"by", "epoch"}});
    } else if (a.expires_after_epoch() <= e) {
      SetAttestationStatus(a, pb::ATTESTATION_STATUS_EXPIRED, "ttl ended with epoch " + U64(e));
      Store(keys::Attestation(a.node_id()), a);
      events_->Emit(event::kAttestationExpired, {{"node_id", a.node_id()}, {"epoch", U64(e)}});
    }
  }

  // 5. Bookkeeping of the served set, then the next epoch with a fresh nonce.
  std::vector<std::string> served_keys;
  store_->Scan(keys::ServedPrefix(e), [&](const std::string& k, const std::string&) {
    served_keys.push_back(k);
    return true;
  });
  for (const auto& k : served_keys) store_->Delete(k);
  Store(keys::Epoch(e), info);

  const uint64_t next = e + 1;
  meta.set_current_epoch(next);
  meta.set_next_subsidy(static_cast<uint64_t>(static_cast<Uint128>(budget) * p.subsidy_decay_bps() / kBasisPoints));
  Store(std::string(keys::kMeta), meta);
  ByteWriter w;
  w.Bytes(kEpochNonceDomain);
  w.U16BE(static_cast<uint16_t>(meta.chain_id().size()));
  w.Bytes(meta.chain_id());
  w.U64BE(next);
  w.U64BE(ctx_.height);
  w.Bytes(ByteView(ctx_.last_app_hash));
  seal::Digest32 nonce = seal::Sha256(w.bytes());
  pb::EpochInfo ni;
  ni.set_number(next);
  ni.set_start_height(ctx_.height + 1);
  ni.set_nonce(nonce.data(), nonce.size());
  Store(keys::Epoch(next), ni);
  events_->Emit(event::kEpochStarted,
                {{"epoch", U64(next)}, {"start_height", U64(ctx_.height + 1)}, {"nonce", HexEncode(nonce)}});
  return OkStatus();
}

}  // namespace cmln::chain
