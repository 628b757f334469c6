// The ABCI 2.0 adapter without CometBFT: framing (frame.h), every method against a real App on a temporary
// store (abci_app.h), crash consistency between FinalizeBlock and Commit, determinism under different
// mempool arrival orders, and the socket server refusing malformed/oversized frames without crashing.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "abci/abci_app.h"
#include "abci/frame.h"
#include "abci/server.h"
#include "chain/node.h"
#include "chain/tx.h"
#include "tendermint/abci/types.pb.h"

namespace cmln::abci {
namespace {

namespace fs = std::filesystem;
namespace tm = ::tendermint::abci;

constexpr int64_t kGenesisTime = 1'700'000'000;

std::string TempDir(const std::string& name) {
  std::string d = fs::temp_directory_path() / ("cmln-abci-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A home made by `cmln chain init` (InitHome): genesis JSON and keys for alice and bob.
struct Home {
  std::string dir;
  std::string genesis;
  seal::AccountPrivateKey alice = std::move(*chain::LoadKeyFile(dir + "/keys/alice.json"));
  std::string bob;

  static Home Make(const std::string& name) {
    std::string dir = TempDir(name);
    chain::InitOptions o;
    o.genesis_time = kGenesisTime;
    EXPECT_TRUE(chain::InitHome(dir + "/home", o).ok());
    return Home(dir + "/home");
  }
  explicit Home(std::string d) : dir(std::move(d)) {
    genesis = ReadText(dir + "/config/genesis.json");
    bob = nlohmann::json::parse(ReadText(dir + "/keys/bob.json"))["address"];
  }
  std::string AliceAddr() const {
    return seal::AccountAddressToString(seal::AccountAddressFromPublicKey(alice.public_key()));
  }
  Bytes Send(uint64_t sequence, uint64_t amount) const {
    chain::v1::Msg m;
    m.mutable_send()->set_from_address(AliceAddr());
    m.mutable_send()->set_to_address(bob);
    m.mutable_send()->set_amount(amount);
    auto tx = chain::BuildSignedTx(alice, "cmln-devnet", sequence, 0, {m});
    EXPECT_TRUE(tx.ok());
    return *tx;
  }
};

std::unique_ptr<AbciApplication> OpenApp(const std::string& db, std::optional<uint64_t> crash = std::nullopt) {
  AbciOptions o;
  o.db_path = db;
  o.crash_before_commit_at = crash;
  auto a = AbciApplication::Open(o, nullptr);
  EXPECT_TRUE(a.ok());
  return std::move(*a);
}

tm::Response Call(AbciApplication& app, const tm::Request& req) {
  tm::Response res;
  app.Handle(req, &res);
  return res;
}

tm::Response InitChain(AbciApplication& app, const std::string& genesis, const std::string& chain_id = "cmln-devnet") {
  tm::Request req;
  req.mutable_init_chain()->set_chain_id(chain_id);
  req.mutable_init_chain()->set_app_state_bytes(genesis);
  req.mutable_init_chain()->set_initial_height(1);
  req.mutable_init_chain()->mutable_time()->set_seconds(kGenesisTime);
  return Call(app, req);
}

tm::Response Info(AbciApplication& app) {
  tm::Request req;
  req.mutable_info()->set_version("0.38.25");
  return Call(app, req);
}

tm::Response CheckTx(AbciApplication& app, const Bytes& tx, bool recheck = false) {
  tm::Request req;
  req.mutable_check_tx()->set_tx(std::string(AsChars(tx)));
  req.mutable_check_tx()->set_type(recheck ? tm::RECHECK : tm::NEW);
  return Call(app, req);
}

tm::Response Finalize(AbciApplication& app, int64_t height, const std::vector<Bytes>& txs) {
  tm::Request req;
  auto* f = req.mutable_finalize_block();
  f->set_height(height);
  f->mutable_time()->set_seconds(kGenesisTime + height);
  f->set_proposer_address(std::string(20, '\x07'));
  for (const auto& t : txs) f->add_txs(std::string(AsChars(t)));
  return Call(app, req);
}

tm::Response Commit(AbciApplication& app) {
  tm::Request req;
  req.mutable_commit();
  return Call(app, req);
}

tm::Response Query(AbciApplication& app, const std::string& path) {
  tm::Request req;
  req.mutable_query()->set_path(path);
  return Call(app, req);
}

// --- framing ------------------------------------------------------------------------------------------

TEST(AbciFrame, UvarintRoundTripAndCaps) {
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, 16384ULL, (1ULL << 63), ~0ULL}) {
    Bytes b;
    WriteUvarint(v, b);
    ByteReader r(b);
    auto got = ReadUvarint(r, "v");
    ASSERT_TRUE(got.ok()) << v;
    EXPECT_EQ(*got, v);
    EXPECT_TRUE(r.empty());
  }
  Bytes eleven(10, 0x80);
  eleven.push_back(0x01);
  ByteReader r1(eleven);
  EXPECT_EQ(ReadUvarint(r1, "v").error().code(), ErrorCode::kMalformed);
  Bytes overflow(9, 0xff);
  overflow.push_back(0x02);  // bit 64 set
  ByteReader r2(overflow);
  EXPECT_EQ(ReadUvarint(r2, "v").error().code(), ErrorCode::kMalformed);
  Bytes partial = {0x80, 0x80};
  ByteReader r3(partial);
  EXPECT_EQ(ReadUvarint(r3, "v").error().code(), ErrorCode::kTruncated);
  EXPECT_EQ(r3.offset(), 0u);
}

TEST(AbciFrame, SplitWaitsForWholeFrameAndRefusesOversized) {
  tm::Request req;
  req.mutable_echo()->set_message("hello");
  Bytes stream;
  AppendRequestFrame(req, stream);
  AppendRequestFrame(req, stream);
  const size_t one = stream.size() / 2;
  for (size_t cut = 0; cut < one; ++cut) {
    auto s = SplitFrame(ByteView(stream).first(cut));
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->payload.has_value()) << cut;
  }
  auto s = SplitFrame(stream);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->payload.has_value());
  EXPECT_EQ(s->consumed, one);
  tm::Request back;
  ASSERT_TRUE(ParseRequest(*s->payload, &back).ok());
  EXPECT_EQ(back.echo().message(), "hello");

  Bytes big;
  WriteUvarint(kMaxFrameBytes + 1, big);
  EXPECT_EQ(SplitFrame(big).error().code(), ErrorCode::kLengthTooLarge);
  EXPECT_EQ(SplitFrame(stream, 3).error().code(), ErrorCode::kLengthTooLarge);
}

TEST(AbciFrame, GarbageAndEmptyRequestsRefused) {
  tm::Request req;
  Bytes junk = {0xff, 0xff, 0xff};
  EXPECT_EQ(ParseRequest(junk, &req).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseRequest({}, &req).error().code(), ErrorCode::kMalformed);  // names no method
}

// --- the application ------------------------------------------------------------------------------------

TEST(AbciApp, InitChainInfoAndRepeatedInitChain) {
  Home home = Home::Make("init");
  auto app = OpenApp(home.dir + "/data/abci.db");
  EXPECT_EQ(Info(*app).info().last_block_height(), 0);
  EXPECT_EQ(Info(*app).info().app_version(), kAppVersion);
  tm::Response r = InitChain(*app, home.genesis);
  ASSERT_TRUE(r.has_init_chain()) << r.exception().error();
  EXPECT_EQ(r.init_chain().app_hash().size(), 32u);
  // Info at genesis stays at 0 so CometBFT runs InitChain again after a crash; the same genesis is accepted.
  EXPECT_EQ(Info(*app).info().last_block_height(), 0);
  tm::Response again = InitChain(*app, home.genesis);
  ASSERT_TRUE(again.has_init_chain());
  EXPECT_EQ(again.init_chain().app_hash(), r.init_chain().app_hash());
  // Another genesis on the same store is a state-machine failure: CometBFT must stop.
  auto other = nlohmann::json::parse(home.genesis);
  other["genesis_time"] = kGenesisTime + 1;
  EXPECT_TRUE(InitChain(*app, other.dump()).has_exception());
}

TEST(AbciApp, InitChainRefusesChainIdMismatchAndBadAppState) {
  Home home = Home::Make("chainid");
  auto app = OpenApp(home.dir + "/data/abci.db");
  tm::Response r = InitChain(*app, home.genesis, "another-chain");
  ASSERT_TRUE(r.has_exception());
  EXPECT_NE(r.exception().error().find("chain_id"), std::string::npos);
  EXPECT_TRUE(InitChain(*app, "not json").has_exception());
  EXPECT_EQ(Info(*app).info().last_block_height(), 0);
}

TEST(AbciApp, BlockLifecycleQueryAndNeverAheadOfCommit) {
  Home home = Home::Make("block");
  auto app = OpenApp(home.dir + "/data/abci.db");
  ASSERT_TRUE(InitChain(*app, home.genesis).has_init_chain());
  Bytes tx1 = home.Send(0, 1000);
  Bytes tx2 = home.Send(1, 2000);
  EXPECT_EQ(CheckTx(*app, tx1).check_tx().code(), 0u);
  EXPECT_EQ(CheckTx(*app, tx2).check_tx().code(), 0u);  // sequence n+1 after n
  tm::Response dup = CheckTx(*app, tx1);
  EXPECT_EQ(dup.check_tx().code(), static_cast<uint32_t>(ErrorCode::kReplay));
  EXPECT_EQ(dup.check_tx().codespace(), "replay");

  Bytes garbage = {1, 2, 3};
  tm::Response fb = Finalize(*app, 1, {tx1, garbage, tx2});
  ASSERT_TRUE(fb.has_finalize_block()) << fb.exception().error();
  ASSERT_EQ(fb.finalize_block().tx_results_size(), 3);
  EXPECT_EQ(fb.finalize_block().tx_results(0).code(), 0u);
  EXPECT_EQ(fb.finalize_block().tx_results(1).code(), static_cast<uint32_t>(ErrorCode::kMalformed));
  EXPECT_EQ(fb.finalize_block().tx_results(1).codespace(), "malformed");
  EXPECT_EQ(fb.finalize_block().tx_results(2).code(), 0u);
  EXPECT_GT(fb.finalize_block().tx_results(0).events_size(), 0);
  EXPECT_EQ(fb.finalize_block().app_hash().size(), 32u);
  // Not committed yet: Info and queries still show genesis.
  EXPECT_EQ(Info(*app).info().last_block_height(), 0);
  auto bob_before = nlohmann::json::parse(Query(*app, "/accounts/" + home.bob).query().value());
  ASSERT_TRUE(Commit(*app).has_commit());
  tm::ResponseInfo info = Info(*app).info();
  EXPECT_EQ(info.last_block_height(), 1);
  EXPECT_EQ(info.last_block_app_hash(), fb.finalize_block().app_hash());

  tm::Response q = Query(*app, "/accounts/" + home.bob);
  ASSERT_EQ(q.query().code(), 0u) << q.query().log();
  EXPECT_EQ(q.query().height(), 1);
  auto bob = nlohmann::json::parse(q.query().value());
  EXPECT_EQ(std::stoull(bob["balance"].get<std::string>()),
            std::stoull(bob_before["balance"].get<std::string>()) + 3000);
  auto status = nlohmann::json::parse(Query(*app, "/status").query().value());
  EXPECT_EQ(status["height"], 1);
  // The tx lookup of the REST API works on the ABCI store too.
  auto txq = Query(*app, "/txs/" + chain::TxHashHex(tx1));
  ASSERT_EQ(txq.query().code(), 0u) << txq.query().log();
  EXPECT_EQ(nlohmann::json::parse(txq.query().value())["height"], 1);
  tm::Response nf = Query(*app, "/escrows/999");
  EXPECT_EQ(nf.query().code(), static_cast<uint32_t>(ErrorCode::kNotFound));
  EXPECT_EQ(nf.query().codespace(), "not_found");
  tm::Response past = Query(*app, "/status");
  tm::Request old;
  old.mutable_query()->set_path("/status");
  old.mutable_query()->set_height(5);
  EXPECT_EQ(Call(*app, old).query().code(), static_cast<uint32_t>(ErrorCode::kUnsupported));
  // A height CometBFT should never send is an exception (it stops rather than fork).
  EXPECT_TRUE(Finalize(*app, 5, {}).has_exception());
}

TEST(AbciApp, QueryPathsFromRest) {
  EXPECT_EQ(QueryPathFromRest("/status"), "status");
  EXPECT_EQ(QueryPathFromRest("/accounts/gonka1x"), "account/gonka1x");
  EXPECT_EQ(QueryPathFromRest("/releases/r1"), "release/r1");
  EXPECT_EQ(QueryPathFromRest("/escrows/7"), "escrow/7");
  EXPECT_EQ(QueryPathFromRest("/escrows?creator=gonka1c"), "escrows/creator/gonka1c");
  EXPECT_EQ(QueryPathFromRest("/attestations?model=m"), "attestations/model/m");
  EXPECT_EQ(QueryPathFromRest("/attestations?node=n1"), "attestations/node/n1");
  EXPECT_EQ(QueryPathFromRest("/epochs/current"), "epoch/current");
  EXPECT_EQ(QueryPathFromRest("/blocks/3"), "block/3");
  EXPECT_EQ(QueryPathFromRest("/txs/ab"), "tx/ab");
  EXPECT_EQ(QueryPathFromRest("account/gonka1x"), "account/gonka1x");
}

TEST(AbciApp, CrashBetweenFinalizeAndCommitLeavesNothing) {
  Home home = Home::Make("crash");
  const std::string db = home.dir + "/data/abci.db";
  std::string hash1;
  {
    auto app = OpenApp(db);
    ASSERT_TRUE(InitChain(*app, home.genesis).has_init_chain());
    tm::Response fb = Finalize(*app, 1, {home.Send(0, 10)});
    ASSERT_TRUE(fb.has_finalize_block());
    hash1 = fb.finalize_block().app_hash();
    // The process "dies" here: no Commit.
  }
  auto app = OpenApp(db);
  EXPECT_EQ(Info(*app).info().last_block_height(), 0);
  // CometBFT's handshake replays block 1: the same app hash.
  tm::Response fb = Finalize(*app, 1, {home.Send(0, 10)});
  ASSERT_TRUE(fb.has_finalize_block());
  EXPECT_EQ(fb.finalize_block().app_hash(), hash1);
  ASSERT_TRUE(Commit(*app).has_commit());
  EXPECT_EQ(Info(*app).info().last_block_height(), 1);
}

TEST(AbciApp, FinalizeAgainWithoutCommitDropsThePendingBlock) {
  // CometBFT restarted between our FinalizeBlock and its Commit while this process lived on.
  Home home = Home::Make("refinalize");
  auto app = OpenApp(home.dir + "/data/abci.db");
  ASSERT_TRUE(InitChain(*app, home.genesis).has_init_chain());
  tm::Response a = Finalize(*app, 1, {home.Send(0, 10)});
  ASSERT_TRUE(a.has_finalize_block());
  EXPECT_EQ(Info(*app).info().last_block_height(), 0);
  tm::Response b = Finalize(*app, 1, {home.Send(0, 10)});
  ASSERT_TRUE(b.has_finalize_block()) << b.exception().error();
  EXPECT_EQ(a.finalize_block().app_hash(), b.finalize_block().app_hash());
  ASSERT_TRUE(Commit(*app).has_commit());
  EXPECT_EQ(Info(*app).info().last_block_height(), 1);
}

TEST(AbciApp, ArrivalOrderInTheMempoolNeverChangesTheAppHash) {
  // Two validators see the same txs in different orders (tx2 first is refused there: sequence gap), but
  // CometBFT decides one order for the block; both reach the same app hash.
  Home home = Home::Make("order");
  auto a = OpenApp(home.dir + "/data/a.db");
  auto b = OpenApp(home.dir + "/data/b.db");
  ASSERT_TRUE(InitChain(*a, home.genesis).has_init_chain());
  ASSERT_TRUE(InitChain(*b, home.genesis).has_init_chain());
  Bytes tx1 = home.Send(0, 5), tx2 = home.Send(1, 7);
  EXPECT_EQ(CheckTx(*a, tx1).check_tx().code(), 0u);
  EXPECT_EQ(CheckTx(*a, tx2).check_tx().code(), 0u);
  EXPECT_EQ(CheckTx(*b, tx2).check_tx().code(), static_cast<uint32_t>(ErrorCode::kSequenceMismatch));
  EXPECT_EQ(CheckTx(*b, tx1).check_tx().code(), 0u);
  EXPECT_EQ(CheckTx(*b, tx2, /*recheck=*/true).check_tx().code(), 0u);
  for (const std::vector<Bytes>& order : {std::vector<Bytes>{tx1, tx2}, std::vector<Bytes>{tx2, tx1}}) {
    // The block's order is CometBFT's; within it each validator computes the same thing.
    tm::Response fa = Finalize(*a, static_cast<int64_t>(a->height() + 1), order);
    tm::Response fbr = Finalize(*b, static_cast<int64_t>(b->height() + 1), order);
    ASSERT_TRUE(fa.has_finalize_block());
    ASSERT_TRUE(fbr.has_finalize_block());
    EXPECT_EQ(fa.finalize_block().app_hash(), fbr.finalize_block().app_hash());
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(fa.finalize_block().tx_results(i).code(), fbr.finalize_block().tx_results(i).code());
    }
    ASSERT_TRUE(Commit(*a).has_commit());
    ASSERT_TRUE(Commit(*b).has_commit());
  }
  EXPECT_EQ(a->app_hash(), b->app_hash());
}

TEST(AbciApp, PrepareAndProcessProposal) {
  Home home = Home::Make("proposal");
  auto app = OpenApp(home.dir + "/data/abci.db");
  ASSERT_TRUE(InitChain(*app, home.genesis).has_init_chain());
  Bytes tx1 = home.Send(0, 5), tx2 = home.Send(1, 7);
  tm::Request prep;
  prep.mutable_prepare_proposal()->set_max_tx_bytes(static_cast<int64_t>(tx1.size() + 3));  // room for one
  prep.mutable_prepare_proposal()->add_txs(std::string(AsChars(tx1)));
  prep.mutable_prepare_proposal()->add_txs(std::string(AsChars(tx2)));
  tm::Response p = Call(*app, prep);
  ASSERT_EQ(p.prepare_proposal().txs_size(), 1);
  EXPECT_EQ(p.prepare_proposal().txs(0), std::string(AsChars(tx1)));
  prep.mutable_prepare_proposal()->set_max_tx_bytes(1 << 20);
  prep.mutable_prepare_proposal()->add_txs("junk");
  EXPECT_EQ(Call(*app, prep).prepare_proposal().txs_size(), 2);  // undecodable tx dropped

  tm::Request proc;
  proc.mutable_process_proposal()->add_txs(std::string(AsChars(tx1)));
  EXPECT_EQ(Call(*app, proc).process_proposal().status(), tm::ResponseProcessProposal::ACCEPT);
  proc.mutable_process_proposal()->add_txs("junk");
  EXPECT_EQ(Call(*app, proc).process_proposal().status(), tm::ResponseProcessProposal::REJECT);
}

TEST(AbciApp, SnapshotsAndVoteExtensionsAreInert) {
  Home home = Home::Make("inert");
  auto app = OpenApp(home.dir + "/data/abci.db");
  tm::Request r;
  r.mutable_list_snapshots();
  EXPECT_EQ(Call(*app, r).list_snapshots().snapshots_size(), 0);
  r.mutable_offer_snapshot();
  EXPECT_EQ(Call(*app, r).offer_snapshot().result(), tm::ResponseOfferSnapshot::REJECT);
  r.mutable_apply_snapshot_chunk();
  EXPECT_EQ(Call(*app, r).apply_snapshot_chunk().result(), tm::ResponseApplySnapshotChunk::ABORT);
  r.mutable_verify_vote_extension();
  EXPECT_EQ(Call(*app, r).verify_vote_extension().status(), tm::ResponseVerifyVoteExtension::ACCEPT);
  r.mutable_echo()->set_message("x");
  EXPECT_EQ(Call(*app, r).echo().message(), "x");
}

// --- the socket server --------------------------------------------------------------------------------

class SocketClient {
 public:
  explicit SocketClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  ~SocketClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void SendRaw(const Bytes& b) { ASSERT_EQ(::send(fd_, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size())); }
  // Reads one response; nullopt on EOF.
  std::optional<tm::Response> Read() {
    while (true) {
      auto s = SplitFrame(buf_);
      if (!s.ok()) return std::nullopt;
      if (s->payload) {
        tm::Response r;
        EXPECT_TRUE(r.ParseFromArray(s->payload->data(), static_cast<int>(s->payload->size())));
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(s->consumed));
        return r;
      }
      uint8_t tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return std::nullopt;
      buf_.insert(buf_.end(), tmp, tmp + n);
    }
  }

 private:
  int fd_;
  bool connected_ = false;
  Bytes buf_;
};

TEST(AbciServer, InOrderResponsesAndMalformedFramesRefusedWithoutCrash) {
  Home home = Home::Make("server");
  auto app = OpenApp(home.dir + "/data/abci.db");
  const std::string sock = home.dir + "/abci.sock";
  auto server = AbciServer::Listen("unix://" + sock, app.get(), /*max_frame_bytes=*/1 << 20);
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  std::thread serving([&] { (void)(*server)->Serve(); });

  {  // Echo, Info, Flush in one write: three responses in order.
    SocketClient c(sock);
    ASSERT_TRUE(c.connected());
    Bytes out;
    tm::Request r;
    r.mutable_echo()->set_message("one");
    AppendRequestFrame(r, out);
    r.mutable_info();
    AppendRequestFrame(r, out);
    r.mutable_flush();
    AppendRequestFrame(r, out);
    c.SendRaw(out);
    auto a = c.Read(), b = c.Read(), f = c.Read();
    ASSERT_TRUE(a && b && f);
    EXPECT_EQ(a->echo().message(), "one");
    EXPECT_TRUE(b->has_info());
    EXPECT_TRUE(f->has_flush());
  }
  {  // Oversized length: one exception, then the connection closes.
    SocketClient c(sock);
    Bytes big;
    WriteUvarint((1 << 20) + 1, big);
    c.SendRaw(big);
    auto e = c.Read();
    ASSERT_TRUE(e.has_value());
    ASSERT_TRUE(e->has_exception());
    EXPECT_NE(e->exception().error().find("length_too_large"), std::string::npos);
    EXPECT_FALSE(c.Read().has_value());
  }
  {  // A frame whose payload is not a Request.
    SocketClient c(sock);
    c.SendRaw({0x03, 0xff, 0xff, 0xff});
    auto e = c.Read();
    ASSERT_TRUE(e.has_value());
    EXPECT_NE(e->exception().error().find("malformed"), std::string::npos);
    EXPECT_FALSE(c.Read().has_value());
  }
  {  // An overlong varint.
    SocketClient c(sock);
    c.SendRaw(Bytes(11, 0x80));
    auto e = c.Read();
    ASSERT_TRUE(e.has_value());
    EXPECT_TRUE(e->has_exception());
  }
  {  // The server still serves new connections.
    SocketClient c(sock);
    Bytes out;
    tm::Request r;
    r.mutable_echo()->set_message("still here");
    AppendRequestFrame(r, out);
    r.mutable_flush();
    AppendRequestFrame(r, out);
    c.SendRaw(out);
    auto a = c.Read();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->echo().message(), "still here");
  }
  EXPECT_EQ((*server)->connections_accepted(), 5u);
  (*server)->RequestStop();
  serving.join();
}

TEST(AbciServer, ListenAddressGrammar) {
  EXPECT_TRUE(ParseListenAddress("unix:///tmp/x.sock").ok());
  auto t = ParseListenAddress("tcp://127.0.0.1:26658");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->port, 26658);
  EXPECT_EQ(ParseListenAddress("unix://relative").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("tcp://127.0.0.1:99999").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("http://x").error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::abci
