// The one exception type of medkd: bad input named by what was wrong.
//
// The library throws medkd::Error for anything the user can fix (a missing file, an option out of
// range, a malformed dataset); the command-line tool prints its message on one line and exits 2.
// Any other exception is a bug and exits 1.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace medkd {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything streamable into one string: str("size ", n, " is odd").
template <typename... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// "a, b, c": lists the valid names in "unknown key ... (valid: a, b, c)" messages.
inline std::string join_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace medkd

// Throws medkd::Error with the concatenated message when the condition is false.
#define MEDKD_CHECK(cond, ...)                                    \
  do {                                                            \
    if (!(cond)) throw ::medkd::Error(::medkd::str(__VA_ARGS__)); \
  } while (false)
