// Commands in a config (a job's exec, a health check's exec, a template's
// check): a string split the way ContainerPilot splits it (on single spaces,
// no shell, no quoting) or a list of strings.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "decode/decoder.h"

namespace autopilot::decode {

// A double space makes an empty argument, which command() refuses.
std::vector<std::string> split_command(const std::string& text);

// A non-empty argv without empty arguments.
Result<std::vector<std::string>> command(const Decoder& d, const Node& n);

}  // namespace autopilot::decode
