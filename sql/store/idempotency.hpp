// Idempotency-Key (API.md §7): a POST's key, kept 24 hours with the reply it started.
#pragma once

#include <optional>
#include <string>

#include "sql/statement.hpp"
#include "sql/store/replies.hpp"

namespace chatd::sql {

class IdempotencyStore : Executor {
 public:
  using Executor::Executor;

  // How the key was used first.
  struct FirstUse {
    std::string message_id;
    std::string request_hash;
  };
  // Records the reply's key on ReplyStore::begin's transaction. Nothing back when the key is
  // new (or expired); else its first use.
  static std::optional<FirstUse> claim(pqxx::transaction_base& tx, const NewReply& reply);
  // Frees the key of a reply that stored nothing (its message could not be stored).
  void forget(const NewReply& reply);
  // Drops expired keys.
  void prune();
};

}  // namespace chatd::sql
