// Settlement of usage (DESIGN section 3 step 8, THREATS D2/D5): the batch journal on disk and the
// thread that seals aggregated usage into TEE-signed batches and submits them to the chain.
//
// Journal: one file per signed batch, DIR/batch-<seq, 20 digits>.bin, written BEFORE the batch is
// submitted (temp file, fsync, rename, fsync of the directory), so a crash at any point after signing
// loses nothing. Its grammar (big-endian):
//   record = magic:8 ("CMLNBAT2") sign_pk:32 signature:64 usage_segment:u64 batch_len:u32
//            (1..kMaxJournalBatchBytes) batch:batch_len (chain/usage_batch.h) checksum:32 (SHA-256 of
//            every preceding byte)
// (A "CMLNBAT1" record, written before usage segments existed, has no usage_segment: read as 0.)
// Before a batch is journaled its usage is in the durable usage log (node/usage_aggregator.h), one
// segment per batch; usage_segment names it, and the segment's file is deleted only after the batch is
// journaled, so a crash between the two is resolved at recovery by deleting the file, never by billing
// the segment again.
// The signing public key travels with the batch because a batch signed before a restart carries the
// previous boot's key, which the chain still accepts during its grace window. Batches the chain refuses
// for good are moved to DIR/rejected/ (kept for the operator, never resubmitted).
//
// Exactly once: batches are submitted in batch_seq order; a batch whose seq is at or below the chain's
// last_batch_seq for the node is settled (by this submission or an earlier one whose result was lost in
// a crash) and its file is deleted, never resubmitted under another seq. Sequence numbers continue after
// both the chain's last_batch_seq and every journaled batch.
//
// Gaps: the chain takes only last_batch_seq + 1 (DESIGN section 3). When a batch is refused for good
// (moved to DIR/rejected/) the pending batches after it are renumbered down, one by one: each is
// re-signed with the current key under the next free seq and journaled, then its old file is deleted.
// A crash between the two leaves two records of the same usage segment; recovery keeps the lowest seq
// (the newer copy) and deletes the other, so the usage is still billed once. A gap found otherwise (the
// chain answers "leaves a gap" and its last_batch_seq confirms it) is closed the same way.
//
// Thread safety: BatchJournal is not thread-safe (Settlement owns it); Settlement's public methods are.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/usage_batch.h"
#include "common/bytes.h"
#include "common/status.h"
#include "node/chain_client.h"
#include "node/ledger.h"
#include "node/usage_aggregator.h"
#include "node/metrics.h"
#include "seal/crypto.h"

namespace cmln::node {

inline constexpr std::string_view kJournalMagic = "CMLNBAT2";
inline constexpr std::string_view kJournalMagicV1 = "CMLNBAT1";
inline constexpr size_t kMaxJournalBatchBytes = chain::kMaxUsageBatchSize;

struct SignedBatch {
  Bytes batch;  // EncodeUsageBatch bytes
  seal::Ed25519PublicKey sign_pk{};
  seal::Ed25519Signature signature{};
  chain::UsageBatch decoded;  // DecodeUsageBatch(batch)
  uint64_t usage_segment = 0;  // the usage log segment the batch holds (0: none, a v1 record)
};

// The journal record codec. Decode: kTruncated / kTrailingData / kLengthTooLarge / kMalformed (magic) /
// kChecksumMismatch (a torn or edited file) / the usage batch's own decode errors / kBadSignature if the
// signature does not verify under sign_pk.
Result<Bytes> EncodeJournalRecord(const SignedBatch& batch);
Result<SignedBatch> DecodeJournalRecord(ByteView record);

class BatchJournal {
 public:
  // Creates DIR (and DIR/rejected) if needed (kIoError on failure).
  static Result<BatchJournal> Open(const std::string& dir);
  // Durably writes the batch (see the file comment). kAlreadyExists if its seq is already journaled.
  Status Write(const SignedBatch& batch);
  // Every journaled batch in seq order. A file that does not decode is moved to DIR/rejected/ and logged.
  Result<std::vector<SignedBatch>> List();
  Status Remove(uint64_t seq);
  Status Reject(uint64_t seq);
  std::string PathOf(uint64_t seq) const;
  const std::string& dir() const { return dir_; }

 private:
  explicit BatchJournal(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

struct SettlementOptions {
  std::string chain_id;
  std::string node_id;
  std::chrono::milliseconds batch_interval{5000};
  size_t max_entries = 1024;
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
};

class Settlement {
 public:
  // Signs the bytes the TEE key signs (chain::UsageBatchSigningMessage) with the node's current TEE key;
  // returns that key's public half and the signature.
  using Signer = std::function<Result<std::pair<seal::Ed25519PublicKey, seal::Ed25519Signature>>(ByteView batch)>;

  Settlement(SettlementOptions options, BatchJournal journal, ChainClient& chain, QuotaLedger& ledger,
             UsageAggregator& usage, Metrics& metrics, Signer signer);
  ~Settlement();  // Stop()

  // At boot, before serving and after the aggregator replayed its usage log: reads the journal, deletes
  // batches at or below `chain_last_batch_seq`, releases the usage segment of every journaled batch
  // (deleting a segment file a crash left behind), counts the pending batches and the replayed usage as
  // unsettled in the ledger, and numbers new batches after both.
  Status Recover(uint64_t chain_last_batch_seq);
  // Closes the aggregator's open segment and seals every closed segment, oldest first, into one batch
  // each: signed, journaled, its segment released, queued. On a journal failure that segment goes back to
  // the aggregator (sealed again next time) and the error is returned.
  Status SealNow();
  // Submits queued batches in order until one fails or none is left; true when none is left.
  bool SubmitPendingOnce();
  size_t pending() const;
  uint64_t next_batch_seq() const;

  // Renumbers the pending batches to be consecutive from `next_seq` (the chain's last_batch_seq + 1), or
  // from the first pending one when that is lower. kUnsupported if a batch to move has no usage segment
  // (a CMLNBAT1 record: a crash while renumbering it could not be told from two batches); errors of
  // signing or the journal otherwise, with the batches renumbered so far kept.
  Status CloseGap(uint64_t next_seq);

  // The background thread: seals every batch_interval, submits with exponential backoff.
  void Start();
  // Stops the thread after a final SealNow and one submission pass. Idempotent.
  void Stop();

 private:
  enum class Verdict { kSettled, kAlreadySettled, kRetry, kRejected, kGap };
  Verdict SubmitOne(const SignedBatch& batch);
  void Done(uint64_t seq, const SignedBatch& batch, const char* outcome);
  Status CloseGapLocked(uint64_t next_seq);
  Result<SignedBatch> Sign(chain::UsageBatch batch, uint64_t usage_segment);
  void Loop();

  SettlementOptions options_;
  BatchJournal journal_;
  ChainClient& chain_;
  QuotaLedger& ledger_;
  UsageAggregator& usage_;
  Metrics& metrics_;
  Signer signer_;

  mutable std::mutex mu_;           // pending_, next_seq_, journal_
  std::mutex submit_mu_;            // one submission pass at a time
  std::map<uint64_t, SignedBatch> pending_;
  uint64_t next_seq_ = 1;
  uint64_t gap_next_seq_ = 0;  // set by SubmitOne with kGap (submission pass only)

  std::mutex thread_mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cmln::node
