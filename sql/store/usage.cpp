#include "sql/store/usage.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

void UsageStore::record(const ModelCallRecord& c) {
  exec(kNoRetry, query::usage_records_insert, c.user_id, c.chat_id, c.message_id, c.kind, c.model,
       c.provider, c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens,
       c.reasoning_tokens, c.cost_micros);
}

}  // namespace chatd::sql
