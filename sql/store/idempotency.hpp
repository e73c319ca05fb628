// Idempotency-Key (API.md §7): a POST's key, kept 24 hours with the reply it started.
#pragma once

#include <string>

#include "sql/statement.hpp"
#include "sql/store/replies.hpp"

namespace chatd::sql {

class IdempotencyStore : Executor {
 public:
  using Executor::Executor;

  // (A reply's key is recorded by ReplyStore::begin, in the statement that claims the reply.)

  // Frees the key of a reply that stored nothing (its message could not be stored).
  void forget(const NewReply& reply);
  // Drops expired keys.
  void prune();
};

}  // namespace chatd::sql
