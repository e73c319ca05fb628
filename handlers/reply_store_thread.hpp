// The reply loop's database thread (DESIGN.md "reply loop"): the loop never waits on
// PostgreSQL. Its replies' checkpoints go here and are written together, one statement for all
// that are queued (ReplyStore::checkpoint of a batch); other statements (a reply's finish, a
// title) run here one by one. Each answer comes back to the loop as a posted task.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.hpp"
#include "sql/store.hpp"

namespace chatd::http {

class ReplyStoreThread {
 public:
  struct Checkpointed {
    enum Outcome {
      kRunning,      // written; `answer` holds the reply's row
      kGone,         // the reply no longer runs here (recovered as dead)
      kRefused,      // the database refused its record; `error` says why (sql::error_text)
      kUnavailable,  // the database is away: nothing was written
    } outcome = kRunning;
    sql::CheckpointAnswer answer;
    std::string error;
  };

  ReplyStoreThread(sql::Store& store, base::EventLoop& loop);
  ~ReplyStoreThread();  // finishes what is queued, then joins
  ReplyStoreThread(const ReplyStoreThread&) = delete;
  ReplyStoreThread& operator=(const ReplyStoreThread&) = delete;

  // From the loop. `done` runs on the loop.
  void checkpoint(sql::ReplyCheckpoint checkpoint, std::function<void(Checkpointed)> done);
  // `job` runs on this thread (it must not throw), then `done` on the loop.
  void run(std::function<void()> job, std::function<void()> done);

 private:
  struct Queued {
    sql::ReplyCheckpoint checkpoint;
    std::function<void(Checkpointed)> done;
  };
  struct Job {
    std::function<void()> job;
    std::function<void()> done;
  };
  void serve();
  void write_checkpoints(std::vector<Queued> batch);

  sql::Store& store_;
  base::EventLoop& loop_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::vector<Queued> checkpoints_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace chatd::http
