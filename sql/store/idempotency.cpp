#include "sql/store/idempotency.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

std::optional<IdempotencyStore::FirstUse> IdempotencyStore::claim(pqxx::transaction_base& tx,
                                                                  const NewReply& r) {
  if (!exec(tx, query::idempotency_claim, r.user_id, r.chat_id, r.idempotency_key, r.request_hash,
            r.message_id)
           .empty())
    return std::nullopt;
  auto first = exec1(tx, query::idempotency_find, r.user_id, r.chat_id, r.idempotency_key);
  return FirstUse{first["message_id"].c_str(), first["request_hash"].c_str()};
}

void IdempotencyStore::forget(const NewReply& r) {
  exec(query::idempotency_forget, r.user_id, r.chat_id, r.idempotency_key, r.message_id);
}

void IdempotencyStore::prune() { exec(query::idempotency_prune); }

}  // namespace chatd::sql
