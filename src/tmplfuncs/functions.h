// consul-template's function library for catalog templates (issue #6), the
// tmplfuncs area: what a template may call and the records it sees. It knows
// the template engine (tmpl/) and the catalog's data types, not how data is
// fetched, cached or written (render/ does that). The data functions read the
// catalog through a Source (tmplfuncs/source.h); the helpers follow
// consul-template's names, argument order (the piped value last) and results.
// /work/shared/reference/consul-template.md §3 is the language; what differs
// here:
//
// Data functions
//  - service "[TAG.]NAME[|FILTER]" [FILTER]: instance records
//    (tmplfuncs/records.h), sorted by (node, id). No filter = healthy only
//    (passing and warning); `any` = every status. `service ""` is empty.
//  - services: every service with live instances, sorted, each .Name and
//    .Tags. .Tags is always an empty list: the Source lists names only, and
//    reading every service's instances to build it would watch them all.
//  - key "PATH": the value, or "" when the key does not exist (consul-template
//    blocks the template until it exists; a missing key renders as "" here).
//    keyExists: whether it exists. keyOrDefault "PATH" "D": D when the key is
//    missing or empty.
//  - ls "PREFIX" / tree "PREFIX": the prefix is a folder: `ls "a/b"` and
//    `ls "a/b/"` both read "a/b/"; a leading '/' is dropped and "/" is the
//    root. ls gives the direct children, tree everything below; both skip
//    folder placeholders (keys ending in '/'). .Key is relative to the prefix,
//    .Path the full key.
//  - Not loaded yet (the Source answers null, and records the miss): service,
//    services, ls and tree give an empty list, key "", keyExists false and
//    keyOrDefault its default, so `{{ if service "x" }}` guards work on every
//    pass.
//  - env, mustEnv (an error when unset or empty, as consul-template),
//    envOrDefault (the default only when unset), file: through the Source.
//
// Helpers: contains in containsAll containsAny containsNone containsNotAll
// byTag byKey split join replaceAll regexMatch regexReplaceAll toLower
// toUpper toTitle trimSpace trim trimPrefix trimSuffix indent toJSON
// toJSONPretty toUnescapedJSON toUnescapedJSONPretty parseJSON parseBool
// parseInt parseUint parseFloat timestamp loop add subtract multiply divide
// modulo minimum maximum default envOrDefault base64Encode base64Decode
// sha256Hex. Differences from consul-template:
//  - regular expressions run on std::regex, see tmpl/string_funcs.h (no
//    backreferences, the longer alternative wins, texts up to 16 KiB);
//  - toLower, toUpper and toTitle change ASCII letters only; toTitle
//    upper-cases a letter that follows anything but a letter, digit, '_' or
//    an apostrophe;
//  - loop returns a list (consul-template: a channel) of at most 100000 ints;
//  - parseJSON keeps integers as ints (Go decodes every number as float64,
//    which prints 1000000 as 1e+06) and refuses nesting deeper than 1000
//    levels; parseUint refuses values above the largest int64;
//  - divide and modulo by zero are errors for floats too (Go: ±Inf / NaN),
//    and modulo also takes floats (math.Mod);
//  - executeTemplate, byMeta, explode, toYAML, toTOML, scratch, sprig_*,
//    Vault/Nomad/Connect functions, node(s), datacenters and safeLs/safeTree
//    are not provided (a function the engine does not know is a parse error
//    naming it). executeTemplate needs the template set, which caller
//    functions cannot reach.
// Errors are Result errors whose message starts with the function name.
// Output depends only on the Source's data (and the clock for timestamp):
// every map iterates in sorted key order.
#pragma once

#include <chrono>
#include <functional>

#include "tmplfuncs/source.h"
#include "tmpl/template.h"

namespace autopilot::tmplfuncs {

// The wall clock `timestamp` reads; empty = std::chrono::system_clock::now.
using WallClock = std::function<std::chrono::system_clock::time_point()>;

// Adds consul-template's functions to `funcs`, reading catalog data from
// `source` (which must outlive every execute()).
void add_consul_template_funcs(tmpl::FuncMap& funcs, Source& source, WallClock now = {});

}  // namespace autopilot::tmplfuncs
