#include "chain/block_store.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

namespace cmln::chain {

namespace {

// RAII for prepared statements.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return st_; }
  void Blob(int i, const void* p, size_t n) { sqlite3_bind_blob(st_, i, n ? p : "", static_cast<int>(n), SQLITE_TRANSIENT); }
  void Text(int i, const std::string& s) { sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void Int(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  int Step() { return sqlite3_step(st_); }
  void Reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::string ColBlob(int i) {
    const void* p = sqlite3_column_blob(st_, i);
    int n = sqlite3_column_bytes(st_, i);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  std::string ColText(int i) {
    const unsigned char* p = sqlite3_column_text(st_, i);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  int64_t ColInt(int i) { return sqlite3_column_int64(st_, i); }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Error SqlError(sqlite3* db, const std::string& what) {
  return Error(ErrorCode::kIoError, "sqlite: " + what + ": " + sqlite3_errmsg(db));
}

BlockRecord ReadBlock(Stmt& s) {
  BlockRecord b;
  b.height = static_cast<uint64_t>(s.ColInt(0));
  b.time = s.ColInt(1);
  b.proposer = s.ColText(2);
  b.app_hash = ToBytes(s.ColBlob(3));
  auto hashes = nlohmann::json::parse(s.ColText(4), nullptr, false);
  if (hashes.is_array()) {
    for (const auto& h : hashes) b.tx_hashes.push_back(h.get<std::string>());
  }
  b.events_json = s.ColText(5);
  return b;
}

}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error(ErrorCode::kIoError, "sqlite: open " + path + ": " + msg);
  }
  std::unique_ptr<BlockStore> s(new BlockStore(db));
  sqlite3_busy_timeout(db, 5000);
  CMLN_TRY(s->Exec("PRAGMA journal_mode=WAL"));
  CMLN_TRY(s->Exec("PRAGMA synchronous=FULL"));
  CMLN_TRY(s->Exec("CREATE TABLE IF NOT EXISTS state (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"));
  CMLN_TRY(s->Exec("CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, time INTEGER NOT NULL, "
                   "proposer TEXT NOT NULL, app_hash BLOB NOT NULL, tx_hashes TEXT NOT NULL, events TEXT NOT NULL)"));
  CMLN_TRY(s->Exec("CREATE TABLE IF NOT EXISTS txs (hash TEXT PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL, "
                   "code INTEGER NOT NULL, log TEXT NOT NULL, events TEXT NOT NULL, raw BLOB NOT NULL)"));
  CMLN_TRY(s->Exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL)"));
  return s;
}

BlockStore::~BlockStore() { sqlite3_close(db_); }

Status BlockStore::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    return Error(ErrorCode::kIoError, std::string("sqlite: ") + sql + ": " + m);
  }
  return OkStatus();
}

Status BlockStore::LoadState(StateMap* out) const {
  Stmt s(db_, "SELECT k, v FROM state ORDER BY k");
  if (!s.ok()) return SqlError(db_, "load state");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out->emplace(s.ColBlob(0), s.ColBlob(1));
  if (rc != SQLITE_DONE) return SqlError(db_, "load state");
  return OkStatus();
}

Result<std::optional<BlockRecord>> BlockStore::LastBlock() const {
  Stmt s(db_, "SELECT height, time, proposer, app_hash, tx_hashes, events FROM blocks ORDER BY height DESC LIMIT 1");
  if (!s.ok()) return SqlError(db_, "last block");
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<BlockRecord>();
  if (rc != SQLITE_ROW) return SqlError(db_, "last block");
  return std::optional<BlockRecord>(ReadBlock(s));
}

Result<std::optional<BlockRecord>> BlockStore::GetBlock(uint64_t height) const {
  Stmt s(db_, "SELECT height, time, proposer, app_hash, tx_hashes, events FROM blocks WHERE height = ?");
  if (!s.ok()) return SqlError(db_, "get block");
  s.Int(1, static_cast<int64_t>(height));
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<BlockRecord>();
  if (rc != SQLITE_ROW) return SqlError(db_, "get block");
  return std::optional<BlockRecord>(ReadBlock(s));
}

Result<std::optional<TxRecord>> BlockStore::GetTx(const std::string& hash) const {
  Stmt s(db_, "SELECT hash, height, idx, code, log, events, raw FROM txs WHERE hash = ?");
  if (!s.ok()) return SqlError(db_, "get tx");
  s.Text(1, hash);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<TxRecord>();
  if (rc != SQLITE_ROW) return SqlError(db_, "get tx");
  TxRecord t;
  t.hash = s.ColText(0);
  t.height = static_cast<uint64_t>(s.ColInt(1));
  t.index = static_cast<uint32_t>(s.ColInt(2));
  t.code = static_cast<uint32_t>(s.ColInt(3));
  t.log = s.ColText(4);
  t.events_json = s.ColText(5);
  t.raw = ToBytes(s.ColBlob(6));
  return std::optional<TxRecord>(std::move(t));
}

Result<std::optional<std::string>> BlockStore::GetMeta(const std::string& key) const {
  Stmt s(db_, "SELECT v FROM meta WHERE k = ?");
  if (!s.ok()) return SqlError(db_, "get meta");
  s.Text(1, key);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqlError(db_, "get meta");
  return std::optional<std::string>(s.ColBlob(0));
}

Status BlockStore::CommitBlock(const BlockRecord& block, const WriteSet& writes, const std::vector<TxRecord>& txs,
                               const std::vector<std::pair<std::string, std::string>>& meta) {
  CMLN_TRY(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) -> Status {
    Error e = SqlError(db_, what);
    (void)Exec("ROLLBACK");
    return e;
  };
  {
    Stmt put(db_, "INSERT OR REPLACE INTO state (k, v) VALUES (?, ?)");
    Stmt del(db_, "DELETE FROM state WHERE k = ?");
    if (!put.ok() || !del.ok()) return fail("prepare state");
    for (const auto& [k, v] : writes) {
      if (v) {
        put.Blob(1, k.data(), k.size());
        put.Blob(2, v->data(), v->size());
        if (put.Step() != SQLITE_DONE) return fail("write state");
        put.Reset();
      } else {
        del.Blob(1, k.data(), k.size());
        if (del.Step() != SQLITE_DONE) return fail("delete state");
        del.Reset();
      }
    }
    Stmt b(db_, "INSERT INTO blocks (height, time, proposer, app_hash, tx_hashes, events) VALUES (?, ?, ?, ?, ?, ?)");
    if (!b.ok()) return fail("prepare block");
    b.Int(1, static_cast<int64_t>(block.height));
    b.Int(2, block.time);
    b.Text(3, block.proposer);
    b.Blob(4, block.app_hash.data(), block.app_hash.size());
    b.Text(5, nlohmann::json(block.tx_hashes).dump());
    b.Text(6, block.events_json);
    if (b.Step() != SQLITE_DONE) return fail("insert block");
    // A replayed copy of an included tx has the same hash; the first (successful) record stays.
    Stmt t(db_, "INSERT OR IGNORE INTO txs (hash, height, idx, code, log, events, raw) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!t.ok()) return fail("prepare tx");
    for (const auto& tx : txs) {
      t.Text(1, tx.hash);
      t.Int(2, static_cast<int64_t>(tx.height));
      t.Int(3, tx.index);
      t.Int(4, tx.code);
      t.Text(5, tx.log);
      t.Text(6, tx.events_json);
      t.Blob(7, tx.raw.data(), tx.raw.size());
      if (t.Step() != SQLITE_DONE) return fail("insert tx");
      t.Reset();
    }
    Stmt m(db_, "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)");
    if (!m.ok()) return fail("prepare meta");
    for (const auto& [k, v] : meta) {
      m.Text(1, k);
      m.Blob(2, v.data(), v.size());
      if (m.Step() != SQLITE_DONE) return fail("insert meta");
      m.Reset();
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  return OkStatus();
}

}  // namespace cmln::chain
