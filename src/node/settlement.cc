#include "node/settlement.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "attest/evidence_file.h"
#include "common/byte_reader.h"
#include "common/durable_file.h"
#include "node/log.h"

namespace cmln::node {

namespace fs = std::filesystem;

namespace {

constexpr size_t kJournalRecordOverhead = 8 + 32 + 64 + 8 + 4 + 32;
constexpr const char* kRejectedDir = "rejected";

uint64_t EntriesCost(const chain::UsageBatch& b) {
  uint64_t sum = 0;
  for (const auto& e : b.entries) sum += e.cost;
  return sum;
}

}  // namespace

// --- journal record --------------------------------------------------------------------------------

Result<Bytes> EncodeJournalRecord(const SignedBatch& batch) {
  if (batch.batch.empty() || batch.batch.size() > kMaxJournalBatchBytes) {
    return Error(ErrorCode::kInvalidArgument, "journal record: batch size out of range");
  }
  ByteWriter w(kJournalRecordOverhead + batch.batch.size());
  w.Bytes(kJournalMagic);
  w.Bytes(batch.sign_pk);
  w.Bytes(batch.signature);
  w.U64BE(batch.usage_segment);
  w.U32BE(static_cast<uint32_t>(batch.batch.size()));
  w.Bytes(batch.batch);
  const seal::Digest32 sum = seal::Sha256(w.bytes());
  w.Bytes(sum);
  return w.Take();
}

Result<SignedBatch> DecodeJournalRecord(ByteView record) {
  ByteReader r(record);
  CMLN_ASSIGN_OR_RETURN(ByteView magic, r.Bytes(kJournalMagic.size(), "journal.magic"));
  const bool v1 = AsChars(magic) == kJournalMagicV1;
  if (!v1 && AsChars(magic) != kJournalMagic) {
    return Error(ErrorCode::kMalformed, "journal.magic at offset 0: not CMLNBAT2 (or CMLNBAT1)");
  }
  SignedBatch out;
  CMLN_TRY(r.Array(out.sign_pk, "journal.sign_pk"));
  CMLN_TRY(r.Array(out.signature, "journal.signature"));
  if (!v1) {
    CMLN_ASSIGN_OR_RETURN(out.usage_segment, r.U64BE("journal.usage_segment"));
  }
  const size_t len_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint32_t len, r.U32BE("journal.batch_len"));
  if (len == 0 || len > kMaxJournalBatchBytes) {
    return Error(ErrorCode::kLengthTooLarge,
                 "journal.batch_len at offset " + std::to_string(len_at) + ": " + std::to_string(len) + " out of range");
  }
  CMLN_ASSIGN_OR_RETURN(ByteView batch, r.Bytes(len, "journal.batch"));
  const size_t covered = r.offset();
  seal::Digest32 sum{};
  CMLN_TRY(r.Array(sum, "journal.checksum"));
  if (!r.empty()) return Error(ErrorCode::kTrailingData, "journal: bytes after the checksum at offset " + std::to_string(r.offset()));
  if (!ConstantTimeEqual(sum, seal::Sha256(record.first(covered)))) {
    return Error(ErrorCode::kChecksumMismatch, "journal.checksum: does not match the record");
  }
  out.batch = ToBytes(batch);
  CMLN_ASSIGN_OR_RETURN(out.decoded, chain::DecodeUsageBatch(out.batch));
  CMLN_TRY(chain::VerifyUsageBatch(out.sign_pk, out.batch, out.signature));
  return out;
}

// --- BatchJournal ------------------------------------------------------------------------------------

Result<BatchJournal> BatchJournal::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / kRejectedDir, ec);
  if (ec) return Error(ErrorCode::kIoError, "journal directory " + dir + ": " + ec.message());
  // A crash between writing a record's temp file and renaming it leaves the temp file: that record was
  // never journaled (its usage is still in the usage log), so the file is garbage.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("batch-", 0) == 0 && e.path().extension() == ".tmp") {
      fs::remove(e.path(), ec);
      log::Info("journal_temp_file_removed", {{"file", name}});
    }
  }
  return BatchJournal(dir);
}

std::string BatchJournal::PathOf(uint64_t seq) const {
  char name[40];
  std::snprintf(name, sizeof(name), "batch-%020llu.bin", static_cast<unsigned long long>(seq));
  return (fs::path(dir_) / name).string();
}

Status BatchJournal::Write(const SignedBatch& batch) {
  const std::string path = PathOf(batch.decoded.batch_seq);
  if (fs::exists(path)) return Error(ErrorCode::kAlreadyExists, "journal: batch " + std::to_string(batch.decoded.batch_seq));
  CMLN_ASSIGN_OR_RETURN(Bytes record, EncodeJournalRecord(batch));
  return WriteFileDurably(path, record);
}

Result<std::vector<SignedBatch>> BatchJournal::List() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("batch-", 0) == 0 && name.size() > 4 &&
        name.substr(name.size() - 4) == ".bin") {
      files.push_back(e.path().string());
    }
  }
  if (ec) return Error(ErrorCode::kIoError, "journal directory " + dir_ + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<SignedBatch> out;
  for (const auto& path : files) {
    auto bytes = attest::ReadFileCapped(path, kMaxJournalBatchBytes + kJournalRecordOverhead);
    Result<SignedBatch> rec = bytes.ok() ? DecodeJournalRecord(*bytes) : Result<SignedBatch>(bytes.error());
    if (!rec.ok() || PathOf(rec->decoded.batch_seq) != path) {
      log::Err("journal_file_unreadable", {{"file", fs::path(path).filename().string()},
                                           {"code", rec.ok() ? "name_mismatch" : ErrorCodeName(rec.error().code())}});
      fs::rename(path, fs::path(dir_) / kRejectedDir / fs::path(path).filename(), ec);
      continue;
    }
    out.push_back(std::move(*rec));
  }
  return out;
}

Status BatchJournal::Remove(uint64_t seq) {
  std::error_code ec;
  fs::remove(PathOf(seq), ec);
  if (ec) return Error(ErrorCode::kIoError, "journal remove batch " + std::to_string(seq) + ": " + ec.message());
  return FsyncDirectory(dir_);
}

Status BatchJournal::Reject(uint64_t seq) {
  std::error_code ec;
  const fs::path from = PathOf(seq);
  fs::rename(from, fs::path(dir_) / kRejectedDir / from.filename(), ec);
  if (ec) return Error(ErrorCode::kIoError, "journal reject batch " + std::to_string(seq) + ": " + ec.message());
  return FsyncDirectory(dir_);
}

// --- Settlement ----------------------------------------------------------------------------------------

Settlement::Settlement(SettlementOptions options, BatchJournal journal, ChainClient& chain, QuotaLedger& ledger,
                       UsageAggregator& usage, Metrics& metrics, Signer signer)
    : options_(std::move(options)),
      journal_(std::move(journal)),
      chain_(chain),
      ledger_(ledger),
      usage_(usage),
      metrics_(metrics),
      signer_(std::move(signer)) {}

Settlement::~Settlement() { Stop(); }

Status Settlement::Recover(uint64_t chain_last_batch_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  CMLN_ASSIGN_OR_RETURN(std::vector<SignedBatch> found, journal_.List());
  uint64_t max_seq = chain_last_batch_seq;
  std::set<uint64_t> segments;
  for (auto& b : found) {
    const uint64_t seq = b.decoded.batch_seq;
    if (b.decoded.chain_id != options_.chain_id || b.decoded.node_id != options_.node_id) {
      log::Err("journal_batch_foreign", {{"batch_seq", seq}});
      CMLN_TRY(journal_.Reject(seq));
      continue;
    }
    // Two records of one segment: a crash while renumbering (see the file comment). The lowest seq is
    // the newer copy; this one is the old record it replaced.
    if (b.usage_segment != 0 && !segments.insert(b.usage_segment).second) {
      log::Info("journal_batch_renumbered_copy", {{"batch_seq", seq}, {"segment", b.usage_segment}});
      CMLN_TRY(journal_.Remove(seq));
      continue;
    }
    // The batch holds its segment's usage: a segment file still on disk is a crash between journaling
    // and releasing it, and must not be billed again.
    if (b.usage_segment != 0) CMLN_TRY(usage_.Release(b.usage_segment));
    if (seq <= chain_last_batch_seq) {
      // Settled before the crash; only the deletion was lost.
      log::Info("journal_batch_already_settled", {{"batch_seq", seq}});
      CMLN_TRY(journal_.Remove(seq));
      continue;
    }
    for (const auto& e : b.decoded.entries) ledger_.AddUnsettled(e.escrow_id, e.cost);
    max_seq = std::max(max_seq, seq);
    log::Info("journal_batch_pending", {{"batch_seq", seq}, {"entries", b.decoded.entries.size()},
                                        {"cost", EntriesCost(b.decoded)}});
    pending_.emplace(seq, std::move(b));
  }
  next_seq_ = max_seq + 1;
  // Gaps between pending batches (a crash while renumbering after a refusal): closed now. The first
  // pending batch is not moved: the chain's last_batch_seq read at boot may lag, and the submitter
  // closes a gap before it only when the chain confirms it.
  if (!pending_.empty()) {
    Status closed = CloseGapLocked(pending_.begin()->first);
    if (!closed.ok()) log::Err("batch_renumber_failed", {{"reason", closed.error().message()}});
  }
  // Usage billed before the crash and not yet in a batch (replayed from the usage log).
  for (const auto& segment : usage_.Pending()) {
    uint64_t cost = 0;
    for (const auto& e : segment.entries) {
      ledger_.AddUnsettled(e.escrow_id, e.cost);
      cost += e.cost;
    }
    log::Info("usage_pending", {{"segment", segment.id}, {"entries", segment.entries.size()}, {"cost", cost}});
  }
  return OkStatus();
}

Status Settlement::SealNow() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t up_to = usage_.Close();
  while (auto segment = usage_.TakeSegment(up_to)) {
    auto fail = [&](const Error& e) -> Status {
      log::Err("batch_seal_failed", {{"batch_seq", next_seq_}, {"segment", segment->id}, {"code", ErrorCodeName(e.code())},
                                     {"reason", e.message()}});
      usage_.Return(std::move(*segment));
      return e;
    };
    auto sb = Sign(chain::UsageBatch{options_.chain_id, options_.node_id, next_seq_, segment->entries}, segment->id);
    if (!sb.ok()) return fail(sb.error());
    Status st = journal_.Write(*sb);
    if (!st.ok()) return fail(st.error());
    // Journaled: the segment's file can go. If deleting it fails, recovery deletes it (the batch names it).
    Status released = usage_.Release(segment->id);
    if (!released.ok()) log::Warn("usage_segment_release_failed", {{"segment", segment->id}, {"reason", released.error().message()}});
    log::Info("batch_journaled", {{"batch_seq", next_seq_}, {"segment", segment->id}, {"entries", sb->decoded.entries.size()},
                                  {"cost", EntriesCost(sb->decoded)}});
    metrics_.CountBatch("journaled");
    pending_.emplace(next_seq_, std::move(*sb));
    ++next_seq_;
  }
  return OkStatus();
}

Result<SignedBatch> Settlement::Sign(chain::UsageBatch batch, uint64_t usage_segment) {
  SignedBatch sb;
  sb.decoded = std::move(batch);
  sb.usage_segment = usage_segment;
  CMLN_ASSIGN_OR_RETURN(sb.batch, chain::EncodeUsageBatch(sb.decoded));
  CMLN_ASSIGN_OR_RETURN(auto signed_by, signer_(sb.batch));
  sb.sign_pk = signed_by.first;
  sb.signature = signed_by.second;
  return sb;
}

Status Settlement::CloseGap(uint64_t next_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  return CloseGapLocked(next_seq);
}

Status Settlement::CloseGapLocked(uint64_t next_seq) {
  if (pending_.empty()) return OkStatus();
  // Pending batches must be consecutive from `next_seq`, or from the first of them when it is lower
  // (then only gaps between them are closed).
  const uint64_t start = std::min(next_seq, pending_.begin()->first);
  std::vector<std::pair<uint64_t, uint64_t>> moves;  // old seq -> new seq, ascending
  uint64_t seq = start;
  for (const auto& [old_seq, b] : pending_) {
    if (old_seq != seq) {
      if (b.usage_segment == 0) {
        return Error(ErrorCode::kUnsupported, "batch " + std::to_string(old_seq) + " has no usage segment; not renumbered");
      }
      moves.emplace_back(old_seq, seq);
    }
    ++seq;
  }
  for (const auto& [old_seq, new_seq] : moves) {
    // The file at new_seq is free: a gap, or an old record this loop already replaced and deleted
    // (new seqs never exceed old ones, and later batches' old seqs exceed this new one).
    const SignedBatch& old = pending_.at(old_seq);
    chain::UsageBatch renumbered = old.decoded;
    renumbered.batch_seq = new_seq;
    CMLN_ASSIGN_OR_RETURN(SignedBatch nb, Sign(std::move(renumbered), old.usage_segment));
    CMLN_TRY(journal_.Write(nb));
    CMLN_TRY(journal_.Remove(old_seq));  // a crash before this: recovery keeps the lower seq of the segment
    log::Info("batch_renumbered", {{"from", old_seq}, {"to", new_seq}, {"segment", nb.usage_segment}});
    pending_.erase(old_seq);
    pending_.emplace(new_seq, std::move(nb));
  }
  // The seqs above the new tail were never settled (they were pending): new batches follow the tail.
  if (!moves.empty()) next_seq_ = pending_.rbegin()->first + 1;
  return OkStatus();
}

void Settlement::Done(uint64_t seq, const SignedBatch& batch, const char* outcome) {
  for (const auto& e : batch.decoded.entries) ledger_.Settled(e.escrow_id, e.cost);
  std::lock_guard<std::mutex> lock(mu_);
  // The journal file is the only record that the segment was billed: it stays until the segment's file
  // is surely gone (Release is idempotent; SealNow's release may have failed), else a restart would replay
  // the segment and bill it twice.
  if (batch.usage_segment != 0) {
    Status released = usage_.Release(batch.usage_segment);
    if (!released.ok()) {
      log::Err("usage_segment_release_failed", {{"segment", batch.usage_segment}, {"batch_seq", seq},
                                                {"reason", released.error().message()}});
      pending_.erase(seq);
      metrics_.CountBatch(outcome);
      return;  // the journal file stays; the next boot releases the segment and then drops the batch
    }
  }
  const bool rejected = std::string_view(outcome) == "rejected";
  Status st = rejected ? journal_.Reject(seq) : journal_.Remove(seq);
  if (!st.ok()) log::Err("journal_update_failed", {{"batch_seq", seq}, {"reason", st.error().message()}});
  pending_.erase(seq);
  metrics_.CountBatch(outcome);
  if (rejected && st.ok()) {
    // The chain still wants `seq`: the batches after it move down (else they would wait forever).
    Status closed = CloseGapLocked(seq);
    if (!closed.ok()) log::Err("batch_renumber_failed", {{"from_seq", seq}, {"reason", closed.error().message()}});
  }
}

Settlement::Verdict Settlement::SubmitOne(const SignedBatch& batch) {
  const uint64_t seq = batch.decoded.batch_seq;
  auto outcome = chain_.SettleUsage(batch.batch, batch.signature);
  if (!outcome.ok()) {
    log::Warn("batch_submit_failed", {{"batch_seq", seq}, {"code", ErrorCodeName(outcome.error().code())},
                                      {"reason", outcome.error().message()}});
    return Verdict::kRetry;
  }
  if (outcome->code == ErrorCode::kOk && outcome->committed) {
    log::Info("batch_settled", {{"batch_seq", seq}, {"height", outcome->height}});
    return Verdict::kSettled;
  }
  // Whatever the code, the chain's last_batch_seq decides whether this batch is settled: a replay or a
  // sequence mismatch (of the batch or of the host account) is resolved by reading it.
  auto att = chain_.Attestation(options_.node_id);
  if (att.ok() && seq <= att->last_batch_seq) {
    log::Info("batch_already_settled", {{"batch_seq", seq}, {"chain_last_batch_seq", att->last_batch_seq}});
    return Verdict::kAlreadySettled;
  }
  const ErrorCode c = outcome->code;
  if (c == ErrorCode::kSequenceMismatch && att.ok() && seq > att->last_batch_seq + 1) {
    // A gap the chain confirms (a batch before this one was refused for good, e.g. in an earlier run).
    log::Warn("batch_gap", {{"batch_seq", seq}, {"chain_last_batch_seq", att->last_batch_seq}});
    gap_next_seq_ = att->last_batch_seq + 1;
    return Verdict::kGap;
  }
  const bool transient = !outcome->committed || c == ErrorCode::kReplay || c == ErrorCode::kSequenceMismatch ||
                         c == ErrorCode::kInsufficientFee || c == ErrorCode::kInsufficientFunds ||
                         c == ErrorCode::kIoError || c == ErrorCode::kInternal || !att.ok();
  log::Warn("batch_refused", {{"batch_seq", seq}, {"code", ErrorCodeName(c)}, {"committed", outcome->committed},
                              {"reason", outcome->log}, {"retry", transient}});
  return transient ? Verdict::kRetry : Verdict::kRejected;
}

bool Settlement::SubmitPendingOnce() {
  std::lock_guard<std::mutex> pass(submit_mu_);
  while (true) {
    SignedBatch next;
    uint64_t seq = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) return true;
      seq = pending_.begin()->first;
      next = pending_.begin()->second;
    }
    switch (SubmitOne(next)) {
      case Verdict::kSettled: Done(seq, next, "settled"); break;
      case Verdict::kAlreadySettled: Done(seq, next, "already_settled"); break;
      case Verdict::kRejected: Done(seq, next, "rejected"); break;
      case Verdict::kGap: {
        std::lock_guard<std::mutex> lock(mu_);
        Status closed = CloseGapLocked(gap_next_seq_);
        if (!closed.ok()) {
          log::Err("batch_renumber_failed", {{"from_seq", gap_next_seq_}, {"reason", closed.error().message()}});
          return false;
        }
        break;  // submit the renumbered batches
      }
      case Verdict::kRetry: return false;
    }
  }
}

size_t Settlement::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

uint64_t Settlement::next_batch_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_;
}

void Settlement::Start() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Settlement::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  (void)SealNow();
  (void)SubmitPendingOnce();
}

void Settlement::Loop() {
  using clock = std::chrono::steady_clock;
  auto next_seal = clock::now() + options_.batch_interval;
  auto next_submit = clock::now();
  auto backoff = options_.backoff_initial;
  std::unique_lock<std::mutex> lock(thread_mu_);
  while (!stop_) {
    cv_.wait_until(lock, std::min(next_seal, next_submit), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    const auto now = clock::now();
    if (now >= next_seal) {
      (void)SealNow();
      next_seal = now + options_.batch_interval;
      next_submit = std::min(next_submit, now);  // submit a new batch at once unless backing off
    }
    if (clock::now() >= next_submit) {
      if (SubmitPendingOnce()) {
        backoff = options_.backoff_initial;
        next_submit = next_seal;
      } else {
        next_submit = clock::now() + backoff;
        backoff = std::min(backoff * 2, options_.backoff_max);
      }
    }
    lock.lock();
  }
}

}  // namespace cmln::node
