#include "discovery/etcd/grpc_code.h"

namespace autopilot::discovery::etcd {

ErrorKind kind_of_grpc(int code, std::string_view message) {
  switch (code) {
    case kCodeNotFound:
      return ErrorKind::kNotFound;
    case kCodeOutOfRange:
      return ErrorKind::kOutOfRange;
    case kCodeUnavailable:
      return ErrorKind::kUnavailable;
    case kCodeUnauthenticated:
      return ErrorKind::kUnauthenticated;
    case kCodeInvalidArgument:
      return message == "etcdserver: user name is empty" ? ErrorKind::kUnauthenticated : ErrorKind::kOther;
    case kCodeFailedPrecondition:
      return message.find("authentication is not enabled") != std::string_view::npos ? ErrorKind::kUnsupported
                                                                                     : ErrorKind::kOther;
    default:
      return ErrorKind::kOther;
  }
}

Error grpc_error(int code, std::string message) {
  ErrorKind kind = kind_of_grpc(code, message);  // before the message is moved
  Error error = make_error(kind, std::move(message));
  error.code = code;
  return error;
}

}  // namespace autopilot::discovery::etcd
