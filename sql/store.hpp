// The typed data access the handlers call, by concern (sql/store/). Each method runs the
// statements of sql/queries/ it is named after, on a connection borrowed from the pool for
// that call only.
#pragma once

#include "sql/pool.hpp"
#include "sql/statement.hpp"
#include "sql/store/accounts.hpp"
#include "sql/store/auth.hpp"
#include "sql/store/chats.hpp"
#include "sql/store/idempotency.hpp"
#include "sql/store/messages.hpp"
#include "sql/store/replies.hpp"

namespace chatd::sql {

class Store : Executor {
 public:
  explicit Store(Pool& pool)
      : Executor(pool),
        auth(pool),
        chats(pool),
        messages(pool),
        replies(pool),
        idempotency(pool),
        accounts(pool) {}

  // The database answers (GET /healthz).
  bool ping();

  AuthStore auth;
  ChatStore chats;
  MessageStore messages;
  ReplyStore replies;
  IdempotencyStore idempotency;
  AccountStore accounts;
};

}  // namespace chatd::sql
