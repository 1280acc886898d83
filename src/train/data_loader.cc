#include "train/data_loader.h"

#include <algorithm>
#include <cstring>

namespace greenai::train {
namespace {

// splitmix64: tiny, seedable from a few integers, and the same on every platform (unlike
// std::shuffle/std::uniform_int_distribution, whose algorithms are library-defined).
struct SplitMix {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); the modulo bias is negligible for data-set sized n.
  uint64_t Below(uint64_t n) { return Next() % n; }
};

uint64_t Mix(uint64_t a, uint64_t b, uint64_t c) {
  SplitMix m{a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) ^ (c * 0xD6E8FEB86659FD93ull)};
  return m.Next();
}

}  // namespace

Result<std::unique_ptr<DataLoader>> DataLoader::Create(std::shared_ptr<const Dataset> ds, LoaderOptions opts) {
  if (!ds) return InvalidArgument("DataLoader: no dataset");
  if (opts.batch_size <= 0) return InvalidArgument("DataLoader '{}': batch size {} must be positive", ds->name(), opts.batch_size);
  if (opts.mean.size() != opts.std.size())
    return InvalidArgument("DataLoader '{}': {} mean values but {} std values (sizes must match)", ds->name(),
                           opts.mean.size(), opts.std.size());
  const Shape& s = ds->sample_shape();
  const int64_t channels = s.empty() ? 1 : s[0];
  if (!opts.mean.empty() && opts.mean.size() != 1 && static_cast<int64_t>(opts.mean.size()) != channels)
    return InvalidArgument("DataLoader '{}': {} mean/std values but samples have {} channels (expects 1 or {})",
                           ds->name(), opts.mean.size(), channels, channels);
  for (float v : opts.std)
    if (!(v > 0)) return InvalidArgument("DataLoader '{}': std {} must be > 0", ds->name(), v);
  if ((opts.crop_padding > 0 || opts.hflip) && s.size() != 3)
    return InvalidArgument("DataLoader '{}': crop/flip augmentation needs [C, H, W] samples, got {}", ds->name(),
                           ShapeToString(s));
  if (opts.crop_padding < 0) return InvalidArgument("DataLoader '{}': crop padding {} must be >= 0", ds->name(), opts.crop_padding);
  if (opts.prefetch < 0) opts.prefetch = 0;
  return std::unique_ptr<DataLoader>(new DataLoader(std::move(ds), std::move(opts)));
}

DataLoader::~DataLoader() { StopProducer(); }

int64_t DataLoader::num_batches() const {
  const int64_t n = ds_->size(), b = opts_.batch_size;
  return opts_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::StopProducer() {
  if (!producer_.joinable()) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  producer_.join();
  queue_.clear();
  stop_ = false;
}

void DataLoader::StartEpoch(int64_t epoch) {
  StopProducer();
  epoch_ = epoch;
  next_batch_ = 0;
  const int64_t n = ds_->size();
  order_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order_[static_cast<size_t>(i)] = i;
  if (opts_.shuffle) {
    SplitMix rng{Mix(opts_.seed, static_cast<uint64_t>(epoch), 0xE90C)};
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order_[static_cast<size_t>(i)], order_[rng.Below(static_cast<uint64_t>(i + 1))]);
  }
  const int64_t nb = num_batches();
  if (opts_.prefetch > 0 && nb > 0) producer_ = std::thread([this, epoch, nb] { ProducerLoop(epoch, nb); });
}

void DataLoader::ProducerLoop(int64_t epoch, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || static_cast<int>(queue_.size()) < opts_.prefetch; });
      if (stop_) return;
    }
    Result<Batch> r = MakeBatch(epoch, b);
    const bool failed = !r.ok();
    {
      std::lock_guard<std::mutex> lk(mu_);
      queue_.push_back(std::move(r));
    }
    cv_.notify_all();
    if (failed) return;  // the consumer sees the error; nothing after it is meaningful
  }
}

Result<std::optional<Batch>> DataLoader::Next() {
  if (epoch_ < 0) StartEpoch(0);
  if (next_batch_ >= num_batches()) return std::optional<Batch>();
  const int64_t b = next_batch_++;
  if (!producer_.joinable()) {
    GREENAI_ASSIGN_OR_RETURN(Batch batch, MakeBatch(epoch_, b));
    return std::optional<Batch>(std::move(batch));
  }
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return !queue_.empty(); });
  Result<Batch> r = std::move(queue_.front());
  queue_.pop_front();
  lk.unlock();
  cv_.notify_all();
  if (!r.ok()) {
    next_batch_ = num_batches();  // the epoch cannot continue past a failed batch
    return r.status();
  }
  return std::optional<Batch>(std::move(r).value());
}

Result<Batch> DataLoader::MakeBatch(int64_t epoch, int64_t b) const {
  const int64_t n = ds_->size();
  const int64_t begin = b * opts_.batch_size;
  const int64_t count = std::min(opts_.batch_size, n - begin);
  if (begin < 0 || count <= 0)
    return OutOfRange("DataLoader '{}': batch {} is outside the epoch ({} batches)", ds_->name(), b, num_batches());
  // The order may belong to a different epoch when called directly; recompute it then.
  std::vector<int64_t> local;
  const std::vector<int64_t>* order = &order_;
  if (epoch != epoch_ || order_.size() != static_cast<size_t>(n)) {
    local.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) local[static_cast<size_t>(i)] = i;
    if (opts_.shuffle) {
      SplitMix rng{Mix(opts_.seed, static_cast<uint64_t>(epoch), 0xE90C)};
      for (int64_t i = n - 1; i > 0; --i)
        std::swap(local[static_cast<size_t>(i)], local[rng.Below(static_cast<uint64_t>(i + 1))]);
    }
    order = &local;
  }
  const Shape& ss = ds_->sample_shape();
  const int64_t numel = NumElements(ss);
  Shape xs = ss;
  xs.insert(xs.begin(), count);
  Batch batch;
  batch.index = b;
  GREENAI_ASSIGN_OR_RETURN(batch.x, Tensor::Create(DType::kF32, xs));
  GREENAI_ASSIGN_OR_RETURN(batch.y, Tensor::Create(DType::kI64, {count}));
  const bool augment = opts_.crop_padding > 0 || opts_.hflip;
  std::vector<float> tmp(augment ? static_cast<size_t>(numel) : 0);
  SplitMix rng{Mix(opts_.seed, static_cast<uint64_t>(epoch), 0xA000 + static_cast<uint64_t>(b))};
  for (int64_t k = 0; k < count; ++k) {
    const int64_t idx = (*order)[static_cast<size_t>(begin + k)];
    float* dst = batch.x.data<float>() + k * numel;
    batch.y.data<int64_t>()[k] = ds_->label(idx);
    if (!augment) {
      ds_->CopySample(idx, dst);
    } else {
      ds_->CopySample(idx, tmp.data());
      const int64_t C = ss[0], H = ss[1], W = ss[2], p = opts_.crop_padding;
      // Crop offset in the padded image: dy, dx in [0, 2p]; source row = y + dy - p.
      const int64_t dy = p > 0 ? static_cast<int64_t>(rng.Below(static_cast<uint64_t>(2 * p + 1))) : p;
      const int64_t dx = p > 0 ? static_cast<int64_t>(rng.Below(static_cast<uint64_t>(2 * p + 1))) : p;
      const bool flip = opts_.hflip && (rng.Next() & 1);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) {
            const int64_t xo = flip ? W - 1 - x : x;  // flip the cropped image
            const int64_t sy = y + dy - p, sx = xo + dx - p;
            dst[(c * H + y) * W + x] =
                (sy < 0 || sy >= H || sx < 0 || sx >= W) ? 0.0f : tmp[static_cast<size_t>((c * H + sy) * W + sx)];
          }
    }
    if (!opts_.mean.empty()) {
      const int64_t C = ss.empty() ? 1 : ss[0];
      const int64_t per = C > 0 ? numel / C : 0;
      for (int64_t c = 0; c < C; ++c) {
        const size_t ci = opts_.mean.size() == 1 ? 0 : static_cast<size_t>(c);
        const float m = opts_.mean[ci], inv = 1.0f / opts_.std[ci];
        for (int64_t i = 0; i < per; ++i) dst[c * per + i] = (dst[c * per + i] - m) * inv;
      }
    }
  }
  return batch;
}

}  // namespace greenai::train
