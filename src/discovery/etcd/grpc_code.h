// gRPC status codes in etcd's replies, and their ErrorKind. Internal to
// discovery/etcd: the etcd code reads Error::code (the gRPC code) where it
// needs etcd's own distinctions; everything above it branches on
// Error::kind, which every etcd error gets here.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace autopilot::discovery::etcd {

inline constexpr int kCodeUnknown = 2;
inline constexpr int kCodeInvalidArgument = 3;
inline constexpr int kCodeNotFound = 5;            // e.g. "etcdserver: requested lease not found"
inline constexpr int kCodeFailedPrecondition = 9;  // e.g. "etcdserver: authentication is not enabled"
inline constexpr int kCodeOutOfRange = 11;         // "mvcc: required revision has been compacted"
inline constexpr int kCodeUnavailable = 14;        // no member answered, or 503
inline constexpr int kCodeUnauthenticated = 16;

// The kind of an etcd error with `code` and etcd's `message`. Two errors
// etcd tells apart only by their text are read here and nowhere else (etcd's
// Go client does the same, rpctypes.errStringToError): "etcdserver: user
// name is empty" (InvalidArgument: auth was enabled while we sent no token)
// is kUnauthenticated, and "authentication is not enabled"
// (FailedPrecondition) is kUnsupported.
ErrorKind kind_of_grpc(int code, std::string_view message);

// An Error with `message`, the gRPC `code` and its kind.
Error grpc_error(int code, std::string message);

}  // namespace autopilot::discovery::etcd
