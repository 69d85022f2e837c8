// problem+json rendering (RFC 9457) of an ApiError.
#pragma once
#include <string>

#include "core/api_error.h"
#include "core/http.h"

namespace core {

constexpr const char* kProblemTypeBase = "https://synkronus.org/docs/errors/";

std::string problem_title(int status);
// Full response for an error: status, problem+json body, extra headers.
Response problem_response(const ApiError& e, const std::string& instance = "");

}  // namespace core
