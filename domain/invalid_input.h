// How domain code refuses input as a whole: which fields are wrong and why, in its
// own terms. The HTTP edge maps it to a 400 `validation` problem (handlers/routes.cpp).
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace domain {

struct FieldProblem {
    std::string field;
    std::string message;  // readable, names the field
};

class InvalidInput : public std::runtime_error {
public:
    explicit InvalidInput(std::vector<FieldProblem> problems)
        : std::runtime_error(problems.empty() ? "invalid input" : problems.front().message),
          problems_(std::move(problems)) {}

    // The code a failed record carries for the same kind of problem.
    static constexpr const char* kCode = "VALIDATION";
    const char* code() const { return kCode; }
    const std::vector<FieldProblem>& problems() const { return problems_; }

private:
    std::vector<FieldProblem> problems_;
};

}  // namespace domain
