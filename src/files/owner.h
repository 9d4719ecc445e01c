// Owner: "user[:group]" for a `files` entry, resolved without NSS (the static
// binary has none): numbers are taken as they are; names are looked up in
// /etc/passwd and /etc/group, read through the Files seam. A user without a
// group gets the user's primary group from /etc/passwd (a numeric user not
// listed there gets the group of the same number).
#pragma once

#include <string>

#include "base/result.h"
#include "os/files.h"

namespace autopilot::files {

// Errors: "no user \"nginx\" in /etc/passwd", "no group \"www\" in /etc/group",
// and the Files error when a file must be read and cannot be.
Result<os::WriteOptions::Owner> resolve_owner(os::Files& files, const std::string& spec,
                                              const std::string& passwd = "/etc/passwd",
                                              const std::string& group = "/etc/group");

}  // namespace autopilot::files
