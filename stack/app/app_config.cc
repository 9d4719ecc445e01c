#include "app_config.h"

#include <sstream>

namespace stack {

namespace {
bool parse_endpoint(std::string s, Endpoint& out) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  if (s.empty()) return false;
  auto colon = s.rfind(':');
  out = Endpoint{s, 6379};
  if (colon == std::string::npos) return true;
  out.host = s.substr(0, colon);
  try {
    int port = std::stoi(s.substr(colon + 1));
    if (port <= 0 || port > 65535) return false;
    out.port = static_cast<unsigned short>(port);
  } catch (...) {
    return false;
  }
  return !out.host.empty();
}
}  // namespace

std::vector<Endpoint> parse_endpoints_file(const std::string& text) {
  std::vector<Endpoint> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "redis") continue;
    Endpoint e;
    if (parse_endpoint(value, e)) out.push_back(e);
  }
  return out;
}

std::vector<Endpoint> parse_endpoints_list(const std::string& list) {
  std::vector<Endpoint> out;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    Endpoint e;
    if (parse_endpoint(item, e)) out.push_back(e);
  }
  return out;
}

}  // namespace stack
