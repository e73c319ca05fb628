#include "sql/store/idempotency.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

void IdempotencyStore::forget(const NewReply& r) {
  exec(query::idempotency_forget, r.user_id, r.chat_id, r.idempotency_key, r.message_id);
}

void IdempotencyStore::prune() { exec(query::idempotency_prune); }

}  // namespace chatd::sql
