#include "handlers/reply_store_thread.hpp"

namespace chatd::http {

ReplyStoreThread::ReplyStoreThread(sql::Store& store, base::EventLoop& loop)
    : store_(store), loop_(loop), thread_([this] { serve(); }) {}

ReplyStoreThread::~ReplyStoreThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

void ReplyStoreThread::checkpoint(sql::ReplyCheckpoint checkpoint,
                                  std::function<void(Checkpointed)> done) {
  {
    std::lock_guard lock(mutex_);
    checkpoints_.push_back({std::move(checkpoint), std::move(done)});
  }
  work_.notify_one();
}

void ReplyStoreThread::run(std::function<void()> job, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({std::move(job), std::move(done)});
  }
  work_.notify_one();
}

// Whatever checkpoints queued up while the last statement ran go out together.
void ReplyStoreThread::serve() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_.wait(lock, [&] { return stopping_ || !checkpoints_.empty() || !jobs_.empty(); });
    if (!checkpoints_.empty()) {
      auto batch = std::move(checkpoints_);
      checkpoints_.clear();
      lock.unlock();
      write_checkpoints(std::move(batch));
      lock.lock();
    } else if (!jobs_.empty()) {
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job.job();
      if (job.done) loop_.post(std::move(job.done));
      lock.lock();
    } else {
      return;  // stopping, and nothing is left
    }
  }
}

void ReplyStoreThread::write_checkpoints(std::vector<Queued> batch) {
  std::vector<sql::ReplyCheckpoint> rows;
  rows.reserve(batch.size());
  for (const auto& queued : batch) rows.push_back(queued.checkpoint);
  std::vector<Checkpointed> answers(batch.size());
  try {
    auto written = store_.replies.checkpoint(rows);
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::string& chat_id = rows[i].chat_id;
      if (auto it = written.running.find(chat_id); it != written.running.end()) {
        answers[i].answer = it->second;
      } else if (auto refused = written.refused.find(chat_id); refused != written.refused.end()) {
        answers[i].outcome = Checkpointed::kRefused;
        answers[i].error = refused->second;
      } else {
        answers[i].outcome = Checkpointed::kGone;
      }
    }
  } catch (const std::exception&) {
    // The database is away (a refused record is answered per reply, above), or no memory was
    // to be had: nothing was written, the parts wait for the next checkpoint.
    for (auto& answer : answers) answer.outcome = Checkpointed::kUnavailable;
  }
  for (size_t i = 0; i < batch.size(); ++i)
    loop_.post([done = std::move(batch[i].done), answer = std::move(answers[i])]() mutable {
      done(std::move(answer));
    });
}

}  // namespace chatd::http
