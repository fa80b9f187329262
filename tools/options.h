// Parsing helpers shared by the subcommands. Each throws UsageError naming the flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "commands.h"
#include "grapevine/time.h"

namespace grapevine::tools {

/// "a,b,c" -> {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& text);
/// An integer in [min, max].
std::uint32_t parse_count(const std::string& flag, const std::string& text, std::uint32_t min,
                          std::uint32_t max);
/// A probability-like value in [0, 1] (or [0, 1) when !allow_one).
void check_fraction(const std::string& flag, double v, bool allow_one);
/// "0,0.2,0.5" -> {0, 0.2, 0.5}, each checked by check_fraction; throws UsageError naming `flag`.
std::vector<double> parse_fraction_list(const std::string& flag, const std::string& text,
                                        bool allow_one);
/// "30", "30s", "500ms", "2m", "1h" (plain numbers are seconds); must be >= 0.
Duration parse_duration(const std::string& flag, const std::string& text);

}  // namespace grapevine::tools
