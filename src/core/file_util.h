// File helpers shared by every layer that writes or reads whole files.
//
// Contract:
//  - WriteFileAtomic never leaves a half-written file at `path`: bytes go to a temp file in the
//    same folder, are fsync'ed, then renamed over `path`. On any failure the previous contents
//    of `path` (if any) are untouched and the temp file is removed. Errors name the path and
//    the OS reason (ENOSPC -> ResourceExhausted, EACCES/EPERM -> IoError "permission denied").
//  - ReadFileToString reads a whole regular file, refusing files larger than `max_bytes`
//    (a guard against accidentally slurping a device or a multi-GB file).
//  - Thread safety: functions are reentrant; concurrent writers to the same path race on
//    the final rename (last one wins) but never produce a torn file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace greenai {

Status WriteFileAtomic(const std::string& path, std::string_view bytes);

inline constexpr uint64_t kDefaultMaxReadBytes = uint64_t{1} << 36;  // 64 GiB
Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes = kDefaultMaxReadBytes);

}  // namespace greenai
