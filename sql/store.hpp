// The typed data access the handlers call, by concern (sql/store/). Each method runs
// statements of sql/queries/ on a connection borrowed from the pool for that call only.
//
// Adding a statement: write sql/queries/NAME.sql (its opening comment states what it does and
// its parameters), then one method in the store of its concern that calls
// exec(query::NAME, …). The build generates query::NAME and prepares it on every connection;
// tests/unit/statements_test.cpp fails while no store calls it.
#pragma once

#include "sql/pool.hpp"
#include "sql/statement.hpp"
#include "sql/store/accounts.hpp"
#include "sql/store/auth.hpp"
#include "sql/store/chats.hpp"
#include "sql/store/files.hpp"
#include "sql/store/idempotency.hpp"
#include "sql/store/messages.hpp"
#include "sql/store/replies.hpp"
#include "sql/store/usage.hpp"

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
        accounts(pool),
        usage(pool),
        files(pool) {}

  // The database answers (GET /healthz).
  bool ping();

  AuthStore auth;
  ChatStore chats;
  MessageStore messages;
  ReplyStore replies;
  IdempotencyStore idempotency;
  AccountStore accounts;
  UsageStore usage;
  FileStore files;
};

}  // namespace chatd::sql
