// The durable usage log (node/usage_aggregator.h) and its recovery with the batch journal
// (node/settlement.h): usage a receipt billed survives a crash before its batch exists, and is billed
// exactly once whichever instant the crash hits (THREATS D2).
#include "node/usage_aggregator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chain/usage_batch.h"
#include "common/byte_reader.h"
#include "node/settlement.h"

namespace cmln::node {
namespace {

namespace fs = std::filesystem;

seal::Digest32 KeyHash(uint8_t b) {
  seal::Digest32 d{};
  d.fill(b);
  return d;
}

uint64_t TotalCost(const std::vector<UsageAggregator::Segment>& segments) {
  uint64_t sum = 0;
  for (const auto& s : segments) {
    for (const auto& e : s.entries) sum += e.cost;
  }
  return sum;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(dir)) out.push_back(f.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class UsageLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/usage_log_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
  }
  std::string dir_;
};

TEST(UsageRecord, RoundTripsAndRefusesCorruption) {
  const Bytes rec = UsageAggregator::EncodeRecord(7, KeyHash(3), 11, 22, 99);
  ASSERT_EQ(rec.size(), kUsageRecordSize);
  auto e = UsageAggregator::DecodeRecord(rec);
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->escrow_id, 7u);
  EXPECT_EQ(e->requester_key_hash, KeyHash(3));
  EXPECT_EQ(e->prompt_tokens, 11u);
  EXPECT_EQ(e->completion_tokens, 22u);
  EXPECT_EQ(e->cost, 99u);
  EXPECT_EQ(e->requests, 1u);
  for (size_t i = 0; i < rec.size(); ++i) {
    Bytes bad = rec;
    bad[i] ^= 0x40;
    EXPECT_EQ(UsageAggregator::DecodeRecord(bad).error().code(), ErrorCode::kChecksumMismatch) << "byte " << i;
  }
  EXPECT_EQ(UsageAggregator::DecodeRecord(ByteView(rec).first(71)).error().code(), ErrorCode::kTruncated);
}

TEST_F(UsageLogTest, D2_BilledUsageSurvivesARestartBeforeAnyBatch) {
  {
    UsageAggregator agg;
    ASSERT_TRUE(agg.OpenDurable(dir_).ok());
    ASSERT_TRUE(agg.Add(4, KeyHash(1), 10, 5, 30).ok());
    ASSERT_TRUE(agg.Add(2, KeyHash(2), 1, 1, 4).ok());
    ASSERT_TRUE(agg.Add(4, KeyHash(1), 2, 2, 8).ok());
  }  // the process dies: nothing was sealed
  UsageAggregator again;
  ASSERT_TRUE(again.OpenDurable(dir_).ok());
  auto pending = again.Pending();
  ASSERT_EQ(pending.size(), 1u);
  ASSERT_EQ(pending[0].entries.size(), 2u);
  EXPECT_EQ(pending[0].entries[0].escrow_id, 2u);
  EXPECT_EQ(pending[0].entries[1].requests, 2u);
  EXPECT_EQ(pending[0].entries[1].cost, 38u);
  // New usage goes to a new segment; the replayed one is taken first.
  ASSERT_TRUE(again.Add(9, KeyHash(9), 1, 1, 1).ok());
  const uint64_t up_to = again.Close();
  auto first = again.TakeSegment(up_to);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, pending[0].id);
  auto second = again.TakeSegment(up_to);
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->id, first->id);
  ASSERT_TRUE(again.Release(first->id).ok());
  ASSERT_TRUE(again.Release(second->id).ok());
  EXPECT_TRUE(SegmentFiles(dir_).empty());
}

TEST_F(UsageLogTest, D2_TornLastRecordIsIgnoredAndCorruptionStopsTheReplay) {
  std::string path;
  {
    UsageAggregator agg;
    ASSERT_TRUE(agg.OpenDurable(dir_).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(agg.Add(1, KeyHash(1), 1, 1, 10).ok());
    path = dir_ + "/" + SegmentFiles(dir_).at(0);
  }
  // A crash mid-append: half a record at the end. Its Add never returned, so its receipt never left.
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    const Bytes rec = UsageAggregator::EncodeRecord(1, KeyHash(1), 1, 1, 1000);
    out.write(reinterpret_cast<const char*>(rec.data()), 40);
  }
  {
    UsageAggregator agg;
    ASSERT_TRUE(agg.OpenDurable(dir_).ok());
    EXPECT_EQ(TotalCost(agg.Pending()), 30u);
  }
  // A flipped byte in the second record: the first is replayed, the rest is not trusted.
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(kUsageLogMagic.size() + kUsageRecordSize + 3));
    f.put('\x7f');
  }
  UsageAggregator agg;
  ASSERT_TRUE(agg.OpenDurable(dir_).ok());
  EXPECT_EQ(TotalCost(agg.Pending()), 10u);
}

TEST_F(UsageLogTest, ASegmentNeverHoldsMoreEscrowsThanABatch) {
  UsageAggregator agg(2);
  ASSERT_TRUE(agg.OpenDurable(dir_).ok());
  for (uint64_t escrow : {1, 2, 1, 3, 2, 4, 5}) ASSERT_TRUE(agg.Add(escrow, KeyHash(1), 1, 1, 1).ok());
  const uint64_t up_to = agg.Close();
  size_t segments = 0, requests = 0;
  while (auto s = agg.TakeSegment(up_to)) {
    ++segments;
    EXPECT_LE(s->entries.size(), 2u);
    for (const auto& e : s->entries) requests += e.requests;
    ASSERT_TRUE(agg.Release(s->id).ok());
  }
  EXPECT_EQ(segments, 3u);  // {1,2} {3,2} {4,5}
  EXPECT_EQ(requests, 7u);
}

// One usage entry of `cost` for `escrow`.
chain::UsageEntry Entry(uint64_t escrow, uint64_t cost) {
  chain::UsageEntry e;
  e.escrow_id = escrow;
  e.requester_key_hash = KeyHash(static_cast<uint8_t>(escrow));
  e.requests = 1;
  e.cost = cost;
  return e;
}

// A batch of `entries` signed by `key`, as the journal holds it for usage `segment`.
SignedBatch SignedFor(const seal::Ed25519PrivateKey& key, uint64_t seq, uint64_t segment,
                      std::vector<chain::UsageEntry> entries) {
  SignedBatch sb;
  sb.decoded = chain::UsageBatch{"chain", "node", seq, std::move(entries)};
  sb.batch = *chain::EncodeUsageBatch(sb.decoded);
  sb.sign_pk = key.public_key();
  sb.signature = *chain::SignUsageBatch(key, sb.batch);
  sb.usage_segment = segment;
  return sb;
}

// Settlement over the durable log, with the chain unreachable (nothing here submits).
class RecoveryTest : public UsageLogTest {
 protected:
  struct Node {
    explicit Node(const std::string& dir)
        : chain("http://127.0.0.1:1", seal::AccountPrivateKey::Generate(), 0),
          ledger([](uint64_t) -> Result<EscrowState> { return Error(ErrorCode::kIoError, "offline"); },
                 std::chrono::milliseconds(1000)) {
      EXPECT_TRUE(usage.OpenDurable(dir + "/usage").ok());
      auto journal = BatchJournal::Open(dir + "/batches");
      EXPECT_TRUE(journal.ok());
      SettlementOptions o;
      o.chain_id = "chain";
      o.node_id = "node";
      settlement = std::make_unique<Settlement>(
          o, std::move(*journal), chain, ledger, usage, metrics,
          [this](ByteView batch) -> Result<std::pair<seal::Ed25519PublicKey, seal::Ed25519Signature>> {
            CMLN_ASSIGN_OR_RETURN(seal::Ed25519Signature sig, chain::SignUsageBatch(key, batch));
            return std::make_pair(key.public_key(), sig);
          });
    }
    seal::Ed25519PrivateKey key = seal::Ed25519PrivateKey::Generate();
    ChainClient chain;
    QuotaLedger ledger;
    UsageAggregator usage;
    Metrics metrics;
    std::unique_ptr<Settlement> settlement;
  };

  // Usage of `cost` for `escrow`, then SealNow's steps by hand up to the journal write of batch 1 — and
  // the process dies there, before the segment file is released.
  void CrashAfterJournalingBeforeRelease(uint64_t escrow, uint64_t cost) {
    Node n(dir_);
    ASSERT_TRUE(n.settlement->Recover(0).ok());
    ASSERT_TRUE(n.usage.Add(escrow, KeyHash(static_cast<uint8_t>(escrow)), 1, 1, cost).ok());
    auto seg = n.usage.TakeSegment(n.usage.Close());
    ASSERT_TRUE(seg.has_value());
    ASSERT_TRUE(BatchJournal::Open(dir_ + "/batches")->Write(SignedFor(n.key, 1, seg->id, seg->entries)).ok());
  }
};

TEST_F(RecoveryTest, D2_UsageReplayedAtBootIsUnsettledAndSealedOnce) {
  {
    Node n(dir_);
    ASSERT_TRUE(n.settlement->Recover(0).ok());
    ASSERT_TRUE(n.usage.Add(3, KeyHash(3), 4, 6, 20).ok());
    ASSERT_TRUE(n.usage.Add(3, KeyHash(3), 1, 1, 4).ok());
  }  // kill -9 before the batch interval
  Node n(dir_);
  ASSERT_TRUE(n.settlement->Recover(0).ok());
  EXPECT_EQ(n.ledger.unsettled(3), 24u);  // quota already spent stays spent
  ASSERT_TRUE(n.settlement->SealNow().ok());
  EXPECT_EQ(n.settlement->pending(), 1u);
  EXPECT_TRUE(n.usage.empty());
  EXPECT_TRUE(SegmentFiles(dir_ + "/usage").empty());
  auto listed = BatchJournal::Open(dir_ + "/batches")->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].decoded.entries.at(0).cost, 24u);
  EXPECT_EQ((*listed)[0].decoded.entries.at(0).requests, 2u);
  EXPECT_NE((*listed)[0].usage_segment, 0u);
}

// The crash between journaling a batch and deleting its segment file: at boot the journal names the
// segment, so the file is deleted and its usage is not billed a second time.
TEST_F(RecoveryTest, D2_CrashBetweenJournalAndSegmentReleaseBillsOnce) {
  CrashAfterJournalingBeforeRelease(5, 9);
  ASSERT_EQ(SegmentFiles(dir_ + "/usage").size(), 1u);  // the crash left the segment file
  Node n(dir_);
  ASSERT_TRUE(n.settlement->Recover(0).ok());
  EXPECT_TRUE(SegmentFiles(dir_ + "/usage").empty());
  EXPECT_TRUE(n.usage.empty());
  EXPECT_EQ(n.settlement->pending(), 1u);
  EXPECT_EQ(n.ledger.unsettled(5), 9u);  // once, from the journaled batch
  ASSERT_TRUE(n.settlement->SealNow().ok());
  EXPECT_EQ(n.settlement->pending(), 1u);  // nothing new to seal
}

// A batch settled on chain before the crash whose segment file survived: released, not replayed.
TEST_F(RecoveryTest, D2_SettledBatchReleasesItsSegmentToo) {
  CrashAfterJournalingBeforeRelease(6, 5);
  Node n(dir_);
  ASSERT_TRUE(n.settlement->Recover(/*chain_last_batch_seq=*/1).ok());
  EXPECT_TRUE(SegmentFiles(dir_ + "/usage").empty());
  EXPECT_TRUE(n.usage.empty());
  EXPECT_EQ(n.settlement->pending(), 0u);
  EXPECT_EQ(n.ledger.unsettled(6), 0u);
  EXPECT_EQ(n.settlement->next_batch_seq(), 2u);
}

std::vector<std::string> JournalFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.is_regular_file()) out.push_back(f.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Batch 1 was refused for good (moved to rejected/), so the chain still wants seq 1: batches 2 and 3 are
// re-signed as 1 and 2, with the same usage; new batches follow them.
TEST_F(RecoveryTest, RefusedBatchGapIsClosedByRenumbering) {
  const auto old_key = seal::Ed25519PrivateKey::Generate();  // the previous boot's key
  {
    auto journal = BatchJournal::Open(dir_ + "/batches");
    ASSERT_TRUE(journal->Write(SignedFor(old_key, 2, 7, {Entry(1, 10)})).ok());
    ASSERT_TRUE(journal->Write(SignedFor(old_key, 3, 8, {Entry(2, 20)})).ok());
  }
  Node n(dir_);
  ASSERT_TRUE(n.settlement->Recover(0).ok());
  EXPECT_EQ(n.settlement->pending(), 2u);
  ASSERT_TRUE(n.settlement->CloseGap(1).ok());
  EXPECT_EQ(JournalFiles(dir_ + "/batches"),
            (std::vector<std::string>{"batch-00000000000000000001.bin", "batch-00000000000000000002.bin"}));
  auto listed = BatchJournal::Open(dir_ + "/batches")->List();  // decoding verifies each signature
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].usage_segment, 7u);
  EXPECT_EQ((*listed)[0].decoded.entries.at(0).cost, 10u);
  EXPECT_EQ((*listed)[1].usage_segment, 8u);
  EXPECT_EQ((*listed)[1].decoded.entries.at(0).cost, 20u);
  EXPECT_EQ((*listed)[0].sign_pk, n.key.public_key());  // re-signed with the current key
  EXPECT_EQ(n.settlement->next_batch_seq(), 3u);
  EXPECT_EQ(n.ledger.unsettled(1), 10u);  // the usage is counted once, as before
  EXPECT_EQ(n.ledger.unsettled(2), 20u);
}

// A crash in the middle of renumbering: the new copy (seq 1) and the old record (seq 2) of segment 7
// are both on disk, and batch 3 is still where it was. Recovery keeps seq 1, deletes the old copy,
// and closes the gap between 1 and 3.
TEST_F(RecoveryTest, CrashWhileRenumberingBillsEachSegmentOnce) {
  const auto key = seal::Ed25519PrivateKey::Generate();
  {
    auto journal = BatchJournal::Open(dir_ + "/batches");
    ASSERT_TRUE(journal->Write(SignedFor(key, 1, 7, {Entry(1, 10)})).ok());
    ASSERT_TRUE(journal->Write(SignedFor(key, 2, 7, {Entry(1, 10)})).ok());
    ASSERT_TRUE(journal->Write(SignedFor(key, 4, 8, {Entry(2, 20)})).ok());
  }
  Node n(dir_);
  ASSERT_TRUE(n.settlement->Recover(0).ok());
  EXPECT_EQ(n.settlement->pending(), 2u);
  EXPECT_EQ(n.ledger.unsettled(1), 10u);
  EXPECT_EQ(n.ledger.unsettled(2), 20u);
  EXPECT_EQ(JournalFiles(dir_ + "/batches"),
            (std::vector<std::string>{"batch-00000000000000000001.bin", "batch-00000000000000000002.bin"}));
  auto listed = BatchJournal::Open(dir_ + "/batches")->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)[1].usage_segment, 8u);
  EXPECT_EQ(n.settlement->next_batch_seq(), 3u);
}

// A crash between a record's temp file and its rename: the temp file is not a record and goes at Open.
TEST_F(UsageLogTest, JournalTempFileLeftByACrashIsRemoved) {
  fs::create_directories(dir_);
  { std::ofstream(dir_ + "/batch-00000000000000000003.bin.tmp") << "half a record"; }
  auto journal = BatchJournal::Open(dir_);
  ASSERT_TRUE(journal.ok());
  EXPECT_FALSE(fs::exists(dir_ + "/batch-00000000000000000003.bin.tmp"));
  EXPECT_TRUE(journal->List()->empty());
}

TEST(BatchJournalV1, RecordsWithoutASegmentStillDecode) {
  const SignedBatch b = SignedFor(seal::Ed25519PrivateKey::Generate(), 4, 0, {Entry(1, 3)});
  // The v1 layout: no usage_segment field.
  ByteWriter w;
  w.Bytes(AsBytes(kJournalMagicV1));
  w.Bytes(b.sign_pk);
  w.Bytes(b.signature);
  w.U32BE(static_cast<uint32_t>(b.batch.size()));
  w.Bytes(b.batch);
  const seal::Digest32 sum = seal::Sha256(w.bytes());
  w.Bytes(sum);
  auto back = DecodeJournalRecord(w.bytes());
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->usage_segment, 0u);
  EXPECT_EQ(back->decoded.batch_seq, 4u);
}

}  // namespace
}  // namespace cmln::node
