// JSON text built off the JS thread: a page of 10,000 names as one buffer
// costs the event loop one copy, not 20,000 strings and 10,000 objects.
#pragma once

#include <string>
#include <string_view>

namespace rbdfn {

// Appends s as a JSON string literal, as JSON.stringify writes the string
// V8 makes from these bytes: invalid UTF-8 becomes U+FFFD, one per maximal
// ill-formed subsequence (V8's decoder, the Unicode standard's practice), and
// ", \ and control characters are escaped.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace rbdfn
