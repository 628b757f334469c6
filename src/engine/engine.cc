#include "engine/engine.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "engine/tokenizer.h"

namespace cmln::engine {

std::string_view FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "stop";
}

Result<seal::Digest32> Sha256File(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Error(ErrorCode::kIoError, "open " + path + ": " + std::strerror(errno));
  seal::Sha256Hasher h;
  std::vector<uint8_t> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) h.Update(ByteView(buf.data(), n));
  if (std::ferror(f.get())) return Error(ErrorCode::kIoError, "read " + path);
  return h.Finish();
}

StopScanner::StopScanner(const std::vector<std::string>& stop) {
  for (const std::string& s : stop) {
    if (s.empty()) continue;
    stop_.push_back(s);
    max_stop_ = std::max(max_stop_, s.size());
  }
}

bool StopScanner::Add(std::string_view piece, std::string* ready) {
  if (stopped_) return true;
  const size_t old = text_.size();
  text_.append(piece);
  // Only a stop sequence that ends inside the new piece can be new.
  const size_t from = old >= max_stop_ ? old - max_stop_ + 1 : 0;
  size_t cut = std::string::npos;
  for (const std::string& s : stop_) {
    const size_t hit = text_.find(s, from);
    if (hit != std::string::npos) cut = std::min(cut, hit);
  }
  if (cut != std::string::npos) {
    text_.resize(cut);
    stopped_ = true;
  }
  // Hold back a tail that could still start a stop sequence, and incomplete UTF-8.
  size_t safe = text_.size();
  if (!stopped_) {
    for (const std::string& s : stop_) {
      for (size_t len = std::min(s.size() - 1, text_.size()); len > 0; --len) {
        if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
          safe = std::min(safe, text_.size() - len);
          break;
        }
      }
    }
    safe = std::min(safe, CompleteUtf8Prefix(text_));
  }
  if (safe > emitted_) {
    if (ready != nullptr) ready->assign(text_, emitted_, safe - emitted_);
    emitted_ = safe;
  } else if (ready != nullptr) {
    ready->clear();
  }
  return stopped_;
}

std::string StopScanner::Flush() {
  std::string rest = text_.substr(std::min(emitted_, text_.size()));
  emitted_ = text_.size();
  return rest;
}

}  // namespace cmln::engine
