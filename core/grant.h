// Grants: worker answers that nginx keeps in its cache so that a download or a 304 of
// a bundle file or an attachment needs no worker (issue 18). Stock nginx asks a worker
// through `auth_request` subrequests and keeps the answers for a few seconds
// (nginx/synkronus-locations.conf has the chain); this is the worker's side.
//
//   token        is this request's bearer token valid (read afresh from the database)?
//                Asked once per token; the key is the Authorization header.
//   file         which stored file does this request get? Asked once per URI, for any
//                granted token: the two routes that allow it (Route::grantable) need
//                only read_only, which every valid token has, and their answer does not
//                depend on who asks.
//   revalidate   the request itself (with If-None-Match), whose 304 nginx may keep per
//                URI and validator.
//   answer       the request itself to a Route::keepable route (the manifest), whose
//                whole answer to a GET, a 200 or a 304, nginx may keep per method, URI,
//                validator and API version; the handler reads afresh (no worker cache).
//
// Every answer says how long nginx may keep it (X-Accel-Expires, whole seconds). nginx
// treats an answer stored at second t as fresh through second t + n, so an answer may
// be used up to n + 1 s after the worker read what it says (which it reads afresh, not
// from its own caches, for that reason):
// - a token answer lasts at most revocation_cache_seconds - 1, so a logout, password
//   change or deleted user shows within revocation_cache_seconds, as without grants;
// - file answers, 304s and kept answers last grant_seconds, and their keys hold the
//   target of the generation link, which the workers (and synkronus-admin, where its
//   user may) point at a new directory after every change on this host that such an
//   answer could contradict (a bundle push, switch or repair, an attachment deletion):
//   those show at once; the same changes made on another host (or in the database by
//   hand) within grant_seconds + 1 s.
//
// Why a change on this host is never contradicted by an answer kept from before it:
// nginx resolves the link into the key before it asks a worker (the key is made
// before the upstream request), and the worker that makes the change points the link
// elsewhere after its commit and before it answers. An answer read before the commit
// was asked under the old target and is stored under it, however late it arrives; a
// request that starts after the change's answer resolves the new target, whose keys
// no earlier answer has. (tests/integration/test_grants.py fails with new_generation
// left out of AttachmentStore::changed.)
#pragma once
#include <string>

#include "core/http.h"

namespace core::grant {

// The answer headers nginx reads (auth_request_set in the locations snippet).
constexpr const char* kGrantHeader = "X-Synkronus-Grant";  // token: "yes" or "no"
constexpr const char* kNextHeader = "X-Synkronus-Next";    // file: an internal URI
constexpr const char* kEtagHeader = "X-Synkronus-Etag";    // file: its ETag

// The token answer.
Response token_answer(bool valid, int seconds);
// A file answer: nginx sends `internal_uri` (a location of the snippet) with `etag`.
Response file_answer(const std::string& internal_uri, const std::string& etag);
// The file answer for anything else: nginx passes the request to a worker as usual.
Response worker_answer();
bool is_file_answer(const Response& r);
// How long nginx may keep `r` (0: not at all).
void keep_for(Response& r, int seconds);

// The generation link (grant_generation_link; "" for none, as in synkronus-admin and
// the unit tests), per process. The pool makes a new generation as it starts.
void set_generation_link(const std::string& path);
// Points the link at a new empty directory: after a change on this host that a kept
// answer could contradict, once it is committed. Never throws: a failure is logged
// (answers then last their seconds, as on other hosts).
void new_generation();

}  // namespace core::grant
