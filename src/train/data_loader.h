// DataLoader: batches from a Dataset with seeded shuffling, normalization, light
// augmentation and an optional background prefetch thread.
//
// Contract:
//  - StartEpoch(e) fixes the order for epoch e: a permutation drawn from (seed, e) when
//    shuffling, else 0..N-1. Next() then yields batches in that order; nullopt at the end.
//  - Batch content depends only on (seed, epoch, batch index): augmentation draws come
//    from an RNG seeded by those three, so prefetching or not gives identical batches.
//  - The last partial batch is kept unless drop_last.
//  - Normalization: x = (x - mean[c]) / std[c] with c the channel (dim 0 of the sample);
//    one value applies to every channel. Applied after augmentation.
//  - Augmentation (rank-3 [C, H, W] samples only; Validate() rejects other ranks):
//    random crop with zero padding `crop_padding` on each side, then horizontal flip with
//    probability 0.5 when `hflip`.
//  - prefetch > 0 runs a producer thread that keeps up to `prefetch` batches queued. An error
//    while producing is returned by the Next() call that would have yielded that batch.
//    StartEpoch and the destructor stop and join the thread (clean shutdown mid-epoch).
//  - Thread safety: one consumer thread calls StartEpoch/Next.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "train/data.h"

namespace greenai::train {

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  std::vector<float> mean;  // empty: no normalization; else size 1 or C
  std::vector<float> std;   // same size as mean; every value > 0
  int64_t crop_padding = 0;
  bool hflip = false;
  int prefetch = 2;  // batches queued ahead by a background thread; 0 = produce in Next()
};

struct Batch {
  Tensor x;  // float32 [B, ...sample_shape]
  Tensor y;  // int64 [B]
  int64_t index = 0;  // batch index within the epoch
};

class DataLoader {
 public:
  // Fails on bad options (batch_size <= 0, mean/std sizes, std <= 0, augmentation on a
  // sample that is not [C, H, W]).
  static Result<std::unique_ptr<DataLoader>> Create(std::shared_ptr<const Dataset> ds, LoaderOptions opts);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t num_batches() const;
  const Dataset& dataset() const { return *ds_; }
  void StartEpoch(int64_t epoch);
  // The next batch of the current epoch, nullopt after the last one. Starts epoch 0 if
  // StartEpoch was never called.
  Result<std::optional<Batch>> Next();

  // Builds batch `b` of `epoch` directly (no queue); what the producer thread calls.
  Result<Batch> MakeBatch(int64_t epoch, int64_t b) const;

 private:
  DataLoader(std::shared_ptr<const Dataset> ds, LoaderOptions opts) : ds_(std::move(ds)), opts_(std::move(opts)) {}
  void StopProducer();
  void ProducerLoop(int64_t epoch, int64_t nb);

  std::shared_ptr<const Dataset> ds_;
  LoaderOptions opts_;
  std::vector<int64_t> order_;
  int64_t epoch_ = -1;
  int64_t next_batch_ = 0;

  std::thread producer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<Batch>> queue_;
  bool stop_ = false;
};

}  // namespace greenai::train
